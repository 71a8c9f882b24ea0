"""Every role's pages in a real browser (Debian's chromium, selenium), on a desk's screen
(1280 px) and on a phone (390 px): no page scrolls sideways, no button is covered by something
else or too small to tap, and no text, button or link falls below AA contrast (a button whose
text has the colour of its background fails it).

Each demo account logs in through the login form and, for staff, the second factor's form;
then the browser follows the links of the role's pages (GET only), checking each at both
widths, and the phone's menu once opened."""

from urllib.parse import urlsplit

import pytest
from selenium.webdriver.common.by import By
from selenium.webdriver.support.ui import WebDriverWait

from identity import demo
from tests.portal.demo_site import NOT_FOLLOWED, ROLES, current_code, load_demo

pytestmark = [pytest.mark.browser, pytest.mark.django_db(transaction=True)]

WIDTHS = (1280, 390)
PAGES_PER_ROLE = 20

# What a person would notice, measured in the page: {"problems": [...]} for the viewport's width.
CHECK_PAGE = """
const problems = [];
const doc = document.documentElement;
// The viewport without its scrollbar (headless chromium draws a classic one).
if (doc.scrollWidth > doc.clientWidth) {
  problems.push(`the page scrolls sideways: ${doc.scrollWidth} px for ${doc.clientWidth} px`);
}
function rgba(text) {
  const m = text.match(/rgba?\\(([^)]+)\\)/);
  if (!m) return [0, 0, 0, 0];
  const p = m[1].split(/[ ,\\/]+/).filter(Boolean).map(Number);
  return [p[0], p[1], p[2], p.length > 3 ? p[3] : 1];
}
function luminance([r, g, b]) {
  const c = [r, g, b].map(v => {
    v /= 255;
    return v <= 0.03928 ? v / 12.92 : ((v + 0.055) / 1.055) ** 2.4;
  });
  return 0.2126 * c[0] + 0.7152 * c[1] + 0.0722 * c[2];
}
function background(el) {
  // The first opaque background behind the element (pages use plain colours, no images).
  let colour = [255, 255, 255, 1];
  const layers = [];
  for (let e = el; e; e = e.parentElement) {
    const c = rgba(getComputedStyle(e).backgroundColor);
    if (c[3] > 0) { layers.push(c); if (c[3] >= 1) break; }
  }
  for (const c of layers.reverse()) {
    colour = [0, 1, 2].map(i => c[i] * c[3] + colour[i] * (1 - c[3])).concat([1]);
  }
  return colour;
}
function contrast(el) {
  const style = getComputedStyle(el);
  const fg = rgba(style.color), bg = background(el);
  const mixed = [0, 1, 2].map(i => fg[i] * fg[3] + bg[i] * (1 - fg[3]));
  const [a, b] = [luminance(mixed), luminance(bg)].sort((x, y) => y - x);
  return (a + 0.05) / (b + 0.05);
}
function visible(el) {
  const r = el.getBoundingClientRect();
  const style = getComputedStyle(el);
  return r.width > 0 && r.height > 0 && style.visibility !== "hidden" && style.opacity !== "0";
}
function name(el) {
  return `<${el.tagName.toLowerCase()}> “${(el.innerText || el.value || "").trim().slice(0, 40)}”`;
}
// Text below AA: 4.5:1, or 3:1 for large text (24 px, or 18.66 px bold).
const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
const checked = new Set();
for (let node = walker.nextNode(); node; node = walker.nextNode()) {
  const el = node.parentElement;
  if (!node.textContent.trim() || checked.has(el) || !visible(el)) continue;
  if (el.closest("svg, [hidden], .visually-hidden, .skip-link, option")) continue;
  checked.add(el);
  const style = getComputedStyle(el);
  const size = parseFloat(style.fontSize), bold = Number(style.fontWeight) >= 700;
  const needed = size >= 24 || (bold && size >= 18.66) ? 3 : 4.5;
  const ratio = contrast(el);
  if (ratio < needed) problems.push(`${name(el)}: contrast ${ratio.toFixed(2)}:1`);
}
// Every button can be tapped: big enough, on screen, not covered by another element.
for (const el of document.querySelectorAll("button, .button, input[type=submit]")) {
  if (!visible(el) || el.closest("[hidden]")) continue;
  el.scrollIntoView({block: "center", inline: "nearest"});
  const r = el.getBoundingClientRect();
  if (r.width < 24 || r.height < 24) problems.push(`${name(el)}: ${r.width}×${r.height} px`);
  if (r.left < -1 || r.right > doc.clientWidth + 1) problems.push(`${name(el)}: off the screen`);
  const hit = document.elementFromPoint(r.left + r.width / 2, r.top + r.height / 2);
  if (hit && hit !== el && !el.contains(hit)) problems.push(`${name(el)}: covered by ${name(hit)}`);
}
window.scrollTo(0, 0);
return problems;
"""


def log_in(browser, live_server, account: demo.DemoAccount) -> None:
    browser.get(live_server.url + "/accounts/login/")
    browser.find_element(By.NAME, "login").send_keys(account.email)
    browser.find_element(By.NAME, "password").send_keys(demo.DEMO_PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    if account.totp_secret:
        WebDriverWait(browser, 10).until(lambda b: b.find_elements(By.NAME, "code"))
        code = current_code(account.totp_secret, margin=10)
        browser.find_element(By.NAME, "code").send_keys(code)
        browser.find_element(By.CSS_SELECTOR, "main form [type=submit]").click()
    WebDriverWait(browser, 10).until(lambda b: "/accounts/" not in b.current_url)


def links_of(browser, base: str) -> list[str]:
    found = browser.execute_script(
        "return [...document.querySelectorAll('a[href]')].map(a => a.href.split('#')[0])"
    )
    paths = []
    for href in found:
        if href.startswith(base):
            parts = urlsplit(href)
            path = parts.path + (f"?{parts.query}" if parts.query else "")
            if not NOT_FOLLOWED.search(path) and "/admin/" not in path:
                paths.append(path)
    return paths


def resize(browser, width: int) -> None:
    browser.set_window_size(width, 900)
    # A headless window may take a moment to resize under load.
    WebDriverWait(browser, 10).until(lambda b: b.execute_script("return innerWidth") == width)


def check(browser, width: int) -> list[str]:
    resize(browser, width)
    return browser.execute_script(CHECK_PAGE)


@pytest.mark.parametrize("role", list(ROLES))
def test_the_pages_of_a_role_fit_a_phone_and_a_desk(browser, live_server, role):
    accounts = load_demo()
    resize(browser, WIDTHS[0])
    log_in(browser, live_server, accounts[ROLES[role]])
    start = urlsplit(browser.current_url).path
    queue, seen, problems = [start], {start}, {}

    # The phone's menu, opened: its links and buttons fit and can be tapped too.
    resize(browser, 390)
    toggle = browser.find_element(By.CSS_SELECTOR, "[data-menu-toggle]")
    assert toggle.is_displayed()
    toggle.click()
    assert browser.find_element(By.ID, "site-nav").is_displayed()
    if found := check(browser, 390):
        problems["menu"] = found
    browser.refresh()

    visited = 0
    while queue and visited < PAGES_PER_ROLE:
        path = queue.pop(0)
        browser.get(live_server.url + path)
        visited += 1
        for width in WIDTHS:
            if found := check(browser, width):
                problems[f"{path} at {width} px"] = found
        for link in links_of(browser, live_server.url):
            if link not in seen:
                seen.add(link)
                queue.append(link)
    assert visited >= 5
    assert problems == {}
    errors = [entry for entry in browser.get_log("browser") if entry["level"] == "SEVERE"]
    assert errors == []  # no CSP violation, no script error
