"""Languages, customText, customCss and themes as a visitor's browser shows them: the pack chosen,
its plurals by the browser's own CLDR rules, numbers written the language's way, right-to-left
languages mirrored, a site's own texts and stylesheet, and the theme's custom properties."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from harness.picking import DIALOG, choose_files, start_pick
from picker.i18n import LANGUAGES, PLURAL_FORMS, bcp47, double_braced, full_pack

ROOT = Path(__file__).resolve().parent.parent
LOCALES = ROOT / "locales"


def pack(language: str) -> dict:
    return full_pack(language, LOCALES)


def form(language: str, key: str, count: int, rules_category: str, **params) -> str:
    text = pack(language)[key][rules_category]
    return text.format(count=count, **params)


def open_dialog(host_page, options: dict) -> None:
    start_pick(host_page.page, "pickAndStore", options, {})
    host_page.page.locator(f"{DIALOG} [data-drop]").wait_for()


def close_dialog(host_page) -> None:
    host_page.page.locator(f"{DIALOG} .close").click()
    host_page.page.wait_for_function("window.calls.some(c => c.kind === 'error')")


def dialog_attribute(page, name: str) -> str:
    return page.locator(f"{DIALOG} [role=dialog]").get_attribute(name)


def test_the_plural_forms_are_those_of_the_browsers_rules(host_page):
    listed = host_page.page.evaluate(
        "tags => Object.fromEntries(tags.map(t => [t, new Intl.PluralRules(t).resolvedOptions().pluralCategories]))",
        sorted(PLURAL_FORMS))
    assert {tag: sorted(forms) for tag, forms in listed.items()} == {
        tag: sorted(forms) for tag, forms in PLURAL_FORMS.items()}


@pytest.mark.parametrize("requested, chosen", [
    ("pl", "pl"), ("pt", "pt"), ("PT_BR", "pt_br"), ("pt-BR", "pt_br"), ("fr-CA", "fr_ca"), ("es-419", "es"),
    ("zh-Hant-TW", "zh_tw"), ("zh-Hant", "zh_tw"), ("de-AT", "de"), ("xx", "en"),
])
def test_the_language_option_chooses_the_pack(host_page, requested, chosen):
    page = host_page.page
    open_dialog(host_page, {"language": requested})
    assert dialog_attribute(page, "lang") == bcp47(chosen)
    assert page.locator(f"{DIALOG} #fp-title").inner_text() == pack(chosen)["dialog.title.one"]
    assert page.locator(f"{DIALOG} .choose").first.inner_text() == pack(chosen)["computer.choose.one"]
    close_dialog(host_page)


def test_a_regional_pack_takes_what_it_leaves_out_from_its_base_language(host_page):
    regional, base = json.loads((LOCALES / "es_mx.json").read_text()), pack("es")
    left_out = next(key for key in ("dialog.title.many", "computer.choose.many", "dialog.close") if key not in regional)
    page = host_page.page
    open_dialog(host_page, {"language": "es-MX", "multiple": True})
    texts = {"dialog.title.many": page.locator(f"{DIALOG} #fp-title").inner_text(),
             "computer.choose.many": page.locator(f"{DIALOG} .choose").first.inner_text(),
             "dialog.close": page.locator(f"{DIALOG} .close").get_attribute("aria-label")}
    assert texts[left_out] == base[left_out]
    close_dialog(host_page)


@pytest.mark.parametrize("count, category", [(2, "few"), (5, "many"), (22, "few"), (25, "many")])
def test_polish_plurals_follow_the_browsers_rules(host_page, tmp_path, count, category):
    files = []
    for number in range(count):
        path = tmp_path / f"notatki-{number}.txt"
        path.write_text("tekst")
        files.append(path)
    page = host_page.page
    open_dialog(host_page, {"language": "pl", "multiple": True, "mimetype": "image/*"})
    choose_files(page, files)
    alert = page.locator(f"{DIALOG} [role=alert] p")
    alert.wait_for()
    names = page.evaluate("names => new Intl.ListFormat('pl', {type: 'conjunction'}).format(names)",
                          [path.name for path in files])
    assert names.endswith(f" i {files[-1].name}")
    assert alert.inner_text() == form("pl", "error.type", count, category, names=names, accepted="image/*")
    close_dialog(host_page)


def test_sizes_are_written_the_languages_way(host_page, tmp_path):
    big = tmp_path / "gross.bin"
    big.write_bytes(b"x" * 2_000_000)
    page = host_page.page
    open_dialog(host_page, {"language": "de", "maxSize": 1_572_864})  # 1.5 MiB
    choose_files(page, [big])
    alert = page.locator(f"{DIALOG} [role=alert] p")
    alert.wait_for()
    limit = "1,5 " + pack("de")["size.units"].split()[2]
    assert alert.inner_text() == pack("de")["error.max_size"]["one"].format(names="gross.bin", limit=limit)
    close_dialog(host_page)


@pytest.mark.parametrize("language", ["ar", "he"])
def test_right_to_left_languages_mirror_the_dialog(host_page, language):
    page = host_page.page
    open_dialog(host_page, {"language": language})
    assert dialog_attribute(page, "dir") == "rtl"
    sources = page.locator(f"{DIALOG} .sources").bounding_box()
    panel = page.locator(f"{DIALOG} .panel").bounding_box()
    assert sources["x"] > panel["x"], "the list of sources is on the right, right to left"
    close = page.locator(f"{DIALOG} .close").bounding_box()
    title = page.locator(f"{DIALOG} #fp-title").bounding_box()
    assert close["x"] < title["x"], "the close button is on the left, right to left"
    close_dialog(host_page)


def test_left_to_right_languages_are_not_mirrored(host_page):
    page = host_page.page
    open_dialog(host_page, {"language": "de"})
    assert dialog_attribute(page, "dir") == "ltr"
    assert page.locator(f"{DIALOG} .sources").bounding_box()["x"] < page.locator(f"{DIALOG} .panel").bounding_box()["x"]
    close_dialog(host_page)


# --- customText ----------------------------------------------------------------------------------


def test_a_published_pack_given_as_custom_text_sets_the_texts(host_page, store):
    # The store's /locales/fr.json, the base a site writes its customText from, on an English dialog.
    page = host_page.page
    open_dialog(host_page, {"language": "en", "customText": f"{store.url}/locales/fr.json"})
    assert page.locator(f"{DIALOG} #fp-title").inner_text() == pack("fr")["dialog.title.one"]
    assert not [c for c in host_page.calls() if c["kind"] == "error"]
    close_dialog(host_page)


def test_custom_text_with_keys_missing_is_reported_and_the_dialog_still_works(host_page, files):
    english = pack("en")
    given = {key: value for key, value in double_braced(english).items() if key not in ("dialog.close", "computer.or")}
    given["dialog.title.one"] = "Send us your CV"
    given["file.progress"] = "Sending {{filename}}"
    host_page.host.files["texts/partial.json"] = (json.dumps(given).encode(), "application/json")
    page = host_page.page
    errors: list[str] = []
    page.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
    open_dialog(host_page, {"language": "en", "customText": "/texts/partial.json"})
    assert page.locator(f"{DIALOG} #fp-title").inner_text() == "Send us your CV"
    assert page.locator(f"{DIALOG} .close").get_attribute("aria-label") == english["dialog.close"]
    reported = [c for c in host_page.calls() if c["kind"] == "error"]
    assert len(reported) == 1 and reported[0]["value"]["code"] == 400
    assert "2 of the language pack's keys are missing: dialog.close, computer.or" in reported[0]["value"]["message"]
    assert any("dialog.close, computer.or" in text for text in errors)
    choose_files(page, [files["small"]])
    assert page.locator(f"{DIALOG} progress").first.get_attribute("aria-label") == f"Sending {files['small'].name}"
    page.wait_for_function("window.calls.some(c => c.kind === 'success')")


@pytest.mark.parametrize("name, body, content_type, says", [
    ("texts/absent.json", None, None, "the server answered 404"),
    ("texts/broken.json", b"{not json", "application/json", "is not JSON"),
    ("texts/list.json", b"[]", "application/json", "it is not a JSON object of keys to texts"),
])
def test_custom_text_that_cannot_be_used_is_reported_and_the_language_shown(host_page, name, body, content_type, says):
    if body is not None:
        host_page.host.files[name] = (body, content_type)
    page = host_page.page
    open_dialog(host_page, {"language": "it", "customText": f"/{name}"})
    assert page.locator(f"{DIALOG} #fp-title").inner_text() == pack("it")["dialog.title.one"]
    reported = [c for c in host_page.calls() if c["kind"] == "error"]
    assert len(reported) == 1 and reported[0]["value"]["code"] == 400 and says in reported[0]["value"]["message"]
    close_dialog(host_page)


def test_custom_text_from_a_plain_http_origin_of_another_site_is_refused(host_page):
    page = host_page.page
    open_dialog(host_page, {"customText": "http://192.0.2.1/texts.json"})
    reported = [c for c in host_page.calls() if c["kind"] == "error"]
    assert len(reported) == 1 and reported[0]["value"]["code"] == 400
    assert "customText must be an https URL" in reported[0]["value"]["message"]
    assert page.locator(f"{DIALOG} #fp-title").inner_text() == pack("en")["dialog.title.one"]
    close_dialog(host_page)


# --- customCss and themes ------------------------------------------------------------------------

SITE_CSS = b""".dialog { background: rgb(1, 2, 3); }
body { background: rgb(9, 9, 9); }
.choose { border-radius: 17px; }"""


def computed(page, selector: str, prop: str) -> str:
    return page.evaluate("([s, p]) => getComputedStyle(document.querySelector('[data-pickstore]').shadowRoot"
                         ".querySelector(s)).getPropertyValue(p)", [selector, prop])


def test_custom_css_restyles_the_picker_and_nothing_else(host_page):
    host_page.host.files["brand/picker.css"] = (SITE_CSS, "text/css")
    page = host_page.page
    body_before = page.evaluate("getComputedStyle(document.body).backgroundColor")
    open_dialog(host_page, {"customCss": "/brand/picker.css"})
    page.wait_for_function("getComputedStyle(document.querySelector('[data-pickstore]').shadowRoot"
                           ".querySelector('.dialog')).backgroundColor === 'rgb(1, 2, 3)'")
    assert computed(page, ".choose", "border-top-left-radius") == "17px"
    assert page.evaluate("getComputedStyle(document.body).backgroundColor") == body_before
    assert page.evaluate("getComputedStyle(document.getElementById('open')).borderTopLeftRadius") != "17px"
    assert not [c for c in host_page.calls() if c["kind"] == "error"]
    close_dialog(host_page)


def test_custom_css_that_cannot_be_loaded_is_reported_and_the_dialog_shown(host_page):
    page = host_page.page
    open_dialog(host_page, {"customCss": "/brand/missing.css"})
    page.wait_for_function("window.calls.some(c => c.kind === 'error')")
    reported = [c for c in host_page.calls() if c["kind"] == "error"]
    assert reported[0]["value"]["code"] == 400 and "customCss" in reported[0]["value"]["message"]
    assert page.locator(f"{DIALOG} .dialog").is_visible()
    close_dialog(host_page)


def test_a_theme_is_a_few_variables_set_by_the_page(host_page):
    page = host_page.page
    page.evaluate("""() => { const s = document.documentElement.style;
      s.setProperty('--pickstore-accent', 'rgb(200, 0, 90)'); s.setProperty('--pickstore-radius', '0px'); }""")
    try:
        open_dialog(host_page, {})
        assert computed(page, ".choose", "background-color") == "rgb(200, 0, 90)"
        assert computed(page, ".dialog", "border-top-left-radius") == "0px"
        close_dialog(host_page)
    finally:
        page.evaluate("""() => { const s = document.documentElement.style;
          s.removeProperty('--pickstore-accent'); s.removeProperty('--pickstore-radius'); }""")


def luminance(rgb: str) -> float:
    r, g, b = (int(part) for part in rgb[rgb.index("(") + 1:rgb.index(")")].split(",")[:3])
    return (0.2126 * r + 0.7152 * g + 0.0722 * b) / 255


def test_dark_follows_the_users_preference_unless_the_page_fixes_one(host_page):
    page = host_page.page
    try:
        page.emulate_media(color_scheme="dark")
        open_dialog(host_page, {})
        assert luminance(computed(page, ".dialog", "background-color")) < 0.2
        assert luminance(computed(page, ".dialog", "color")) > 0.8
        close_dialog(host_page)
        page.evaluate("document.documentElement.style.setProperty('--pickstore-color-scheme', 'light')")
        open_dialog(host_page, {})
        assert luminance(computed(page, ".dialog", "background-color")) > 0.9
        close_dialog(host_page)
    finally:
        page.emulate_media(color_scheme="light")
        page.evaluate("document.documentElement.style.removeProperty('--pickstore-color-scheme')")


# --- every pack fits the smallest dialog ---------------------------------------------------------

OVERFLOWING = """() => {
  const root = document.querySelector('[data-pickstore]').shadowRoot;
  const out = [];
  for (const node of root.querySelectorAll('.dialog *')) {
    if (!node.getClientRects().length || node.closest('.visually-hidden')) continue;
    const style = getComputedStyle(node);
    if (['auto', 'scroll'].includes(style.overflowX) || style.textOverflow === 'ellipsis') continue;
    if (node.scrollWidth > node.clientWidth + 1 && node.clientWidth > 0) out.push(node.outerHTML.slice(0, 120));
  }
  const dialog = root.querySelector('.dialog');
  if (dialog.scrollWidth > dialog.clientWidth + 1) out.push('the dialog scrolls sideways');
  return out;
}"""


@pytest.mark.parametrize("width", [320, 760])
def test_no_pack_overflows_the_dialog(host_page, width):
    page = host_page.page
    before = page.viewport_size
    page.set_viewport_size({"width": width, "height": 640})
    problems = {}
    try:
        for language in LANGUAGES:
            for options in ({"language": language}, {"language": language, "multiple": True, "folders": True}):
                open_dialog(host_page, options)
                found = page.evaluate(OVERFLOWING)
                if found:
                    problems[f"{language} {sorted(options)}"] = found
                page.keyboard.press("Escape")
                page.wait_for_function("!document.querySelector('[data-pickstore]')")
    finally:
        page.set_viewport_size(before)
    assert problems == {}


# --- the browser's languages ---------------------------------------------------------------------


@pytest.mark.parametrize("locale, chosen", [("pt-BR", "pt_br"), ("fr-CH", "fr")])
def test_without_a_language_option_the_browsers_language_is_used(browser, host, locale, chosen):
    # A visitor whose browser is set to `locale`; the frame drawn before the picker is ready and
    # the dialog agree on the language.
    context = browser.new_context(locale=locale)
    try:
        page = context.new_page()
        page.goto(f"{host.url}/host.html")
        page.evaluate("() => { window.nextPick = ['pickAndStore', {}, {}]; filepicker.setKey('demo'); }")
        page.click("#open")  # at once: the loader's frame shows first
        frame_lang = page.locator(f"{DIALOG} [role=dialog]").get_attribute("lang")
        page.locator(f"{DIALOG} [data-drop]").wait_for(timeout=60_000)
        assert frame_lang == bcp47(chosen)
        assert dialog_attribute(page, "lang") == bcp47(chosen)
        assert page.locator(f"{DIALOG} .choose").first.inner_text() == pack(chosen)["computer.choose.one"]
    finally:
        context.close()
