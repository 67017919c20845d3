"""pickstore's storage service: receives uploads, keeps files in a storage location, serves them."""
