/* Resource Timing entries of the tus requests: the creations (/api/upload) and the requests to
   upload URLs (/api/upload/<id>: the PATCHes). */
() => performance.getEntriesByType("resource")
  .filter(e => /\/api\/upload(\/[^/]+)?$/.test(new URL(e.name).pathname))
  .map(e => ({name: new URL(e.name).pathname, start: e.startTime, end: e.responseEnd}))
