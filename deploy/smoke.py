"""Smoke test of a running Sésame over HTTP, as a visitor's browser behind the reverse proxy
would drive it (standard library only, so it runs from anywhere):

1. the probes: `/healthz`, `/readyz` ready;
2. a staff account logs in with its password and the second factor (TOTP computed from the
   account's secret, RFC 6238) and reaches the staff home;
3. a resident logs in, adds a paid product to the basket, pays it on the demo provider's page
   and downloads the receipt (a PDF, written by the task worker);
4. given one, a gate reader's tap (its SUN URL and token), granted;
5. with a metrics token, `/metrics` counts the requests and the payment.

Over HTTPS it goes through nginx (deploy/nginx, `--cafile` for a test certificate); over
HTTP it speaks to gunicorn directly and says what nginx would: `X-Forwarded-Proto: https`,
`X-Forwarded-For`. Either way each request carries an `X-Request-ID` that must come back.
Cookies are kept by hand (the session's are `Secure`). Exits 0 and prints one line per step;
at the first failure, exits 1 saying what.

    python deploy/smoke.py http://127.0.0.1:8000 --staff accueil@demo.sesame.fr \\
        --totp-secret BASE32 --resident camille.martin@demo.sesame.fr --password … \\
        [--tap '{"credential": …, "token": …}'] [--metrics-token TOKEN]
"""

import argparse
import base64
import hashlib
import hmac
import json
import re
import ssl
import struct
import sys
import time
import uuid
from datetime import UTC, datetime
from html.parser import HTMLParser
from http.client import HTTPConnection, HTTPResponse, HTTPSConnection
from urllib.parse import urlencode, urljoin, urlsplit


class SmokeFailure(Exception):
    pass


def totp(secret: str, *, at: float | None = None, digits: int = 6, step: int = 30) -> str:
    """RFC 6238 with SHA-1, as authenticator apps (and allauth) compute it."""
    key = base64.b32decode(secret.upper() + "=" * (-len(secret) % 8))
    counter = struct.pack(">Q", int((time.time() if at is None else at) // step))
    digest = hmac.new(key, counter, hashlib.sha1).digest()
    offset = digest[-1] & 0x0F
    value = struct.unpack(">I", digest[offset : offset + 4])[0] & 0x7FFFFFFF
    return str(value % 10**digits).zfill(digits)


class Form:
    def __init__(self, action: str, method: str):
        self.action, self.method = action, method
        self.fields: dict[str, str] = {}
        self.buttons: list[tuple[str, str]] = []


class _Forms(HTMLParser):
    """The forms of a page: their action, inputs (the first checked radio, selects' first or
    selected option) and named submit buttons."""

    def __init__(self):
        super().__init__()
        self.forms: list[Form] = []
        self.links: list[str] = []
        self._select: str | None = None

    def handle_starttag(self, tag, attrs):
        a = {k: v or "" for k, v in attrs}
        current = self.forms[-1] if self.forms else None
        if tag == "a" and a.get("href"):
            self.links.append(a["href"])
        elif tag == "form":
            self.forms.append(Form(a.get("action", ""), a.get("method", "get").lower()))
        elif current is None:
            return
        elif tag == "input" and a.get("name"):
            kind = a.get("type", "text")
            if kind in {"radio", "checkbox"}:
                if "checked" in a or (kind == "radio" and a["name"] not in current.fields):
                    current.fields[a["name"]] = a.get("value", "on")
            elif kind == "submit":
                current.buttons.append((a["name"], a.get("value", "")))
            else:
                current.fields[a["name"]] = a.get("value", "")
        elif tag == "button" and a.get("name"):
            current.buttons.append((a["name"], a.get("value", "")))
        elif tag == "select":
            self._select = a.get("name")
        elif (
            tag == "option"
            and self._select is not None
            and ("selected" in a or self._select not in current.fields)
        ):
            current.fields[self._select] = a.get("value", "")

    def handle_endtag(self, tag):
        if tag == "select":
            self._select = None


def parse(html: str) -> _Forms:
    parser = _Forms()
    parser.feed(html)
    return parser


class Browser:
    """One visitor: its cookies, its requests through the proxy's headers."""

    def __init__(self, base_url: str, *, client_ip: str = "203.0.113.7", cafile: str | None = None):
        parts = urlsplit(base_url)
        self.tls = parts.scheme == "https"
        self.host, self.port = parts.hostname, parts.port or (443 if self.tls else 80)
        self.origin = f"https://{parts.netloc}"
        self.client_ip = client_ip
        self.context = ssl.create_default_context(cafile=cafile) if self.tls else None
        self.cookies: dict[str, str] = {}
        self.request_ids: list[str] = []

    def connect(self) -> HTTPConnection:
        if self.tls:
            return HTTPSConnection(self.host, self.port, timeout=30, context=self.context)
        return HTTPConnection(self.host, self.port, timeout=30)

    def request(
        self,
        method: str,
        path: str,
        *,
        form: dict | None = None,
        body: bytes | None = None,
        headers: dict | None = None,
    ) -> tuple[HTTPResponse, bytes]:
        request_id = uuid.uuid4().hex
        self.request_ids.append(request_id)
        sent = {
            "Host": f"{self.host}:{self.port}",
            "X-Request-ID": request_id,
            "User-Agent": "sesame-smoke",
            **(headers or {}),
        }
        if not self.tls:  # straight to gunicorn: say what nginx would
            sent |= {"X-Forwarded-Proto": "https", "X-Forwarded-For": self.client_ip}
        if self.cookies:
            sent["Cookie"] = "; ".join(f"{k}={v}" for k, v in self.cookies.items())
        if form is not None:
            body = urlencode(form).encode()
            sent["Content-Type"] = "application/x-www-form-urlencoded"
            sent["Origin"] = self.origin
            sent["Referer"] = self.origin + path
        connection = self.connect()
        try:
            connection.request(method, path, body=body, headers=sent)
            response = connection.getresponse()
            content = response.read()
        finally:
            connection.close()
        for header in response.headers.get_all("Set-Cookie") or []:
            name, _, rest = header.partition("=")
            self.cookies[name.strip()] = rest.split(";", 1)[0]
        if response.headers.get("X-Request-ID") != request_id:
            raise SmokeFailure(f"{path}: the request id did not come back")
        if response.status >= 500:
            raise SmokeFailure(f"{method} {path} answered {response.status}")
        return response, content

    def get(self, path: str, **kwargs):
        return self.request("GET", path, **kwargs)

    def follow(self, response: HTTPResponse, content: bytes, path: str, *, limit: int = 5):
        """Follows redirects (GET); returns the final path, response and content."""
        for _ in range(limit):
            if response.status not in (301, 302, 303):
                return path, response, content
            path = _local(urljoin(path, response.headers["Location"]))
            response, content = self.get(path)
        raise SmokeFailure(f"too many redirects from {path}")

    def submit(self, path: str, form: Form, *, extra: dict | None = None):
        target = _local(urljoin(path, form.action or path))
        response, content = self.request("POST", target, form={**form.fields, **(extra or {})})
        return self.follow(response, content, target)


def _local(url: str) -> str:
    parts = urlsplit(url)
    return parts.path + (f"?{parts.query}" if parts.query else "")


def expect(condition: bool, message: str) -> None:
    if not condition:
        raise SmokeFailure(message)


def log_in(browser: Browser, email: str, password: str, totp_secret: str | None = None) -> str:
    """The login form, then the second factor's form when asked; returns where it lands."""
    path = "/accounts/login/"
    response, content = browser.get(path)
    expect(response.status == 200, f"the login page answered {response.status}")
    (form,) = [f for f in parse(content.decode()).forms if "password" in f.fields]
    path, response, content = browser.submit(
        path, form, extra={"login": email, "password": password}
    )
    if "/2fa/" in path:
        expect(totp_secret is not None, f"{email} is asked a second factor")
        (form,) = [f for f in parse(content.decode()).forms if "code" in f.fields]
        if 30 - time.time() % 30 < 3:  # the code is about to change: wait for the next one
            time.sleep(30 - time.time() % 30 + 0.2)
        path, response, content = browser.submit(path, form, extra={"code": totp(totp_secret)})
    expect(response.status == 200, f"after logging in, {path} answered {response.status}")
    expect("sessionid" in browser.cookies, f"{email} got no session")
    expect("/accounts/" not in path, f"{email} stayed at {path}: the login was refused")
    return path


def probes(browser: Browser) -> None:
    response, content = browser.get("/healthz")
    expect(response.status == 200, f"/healthz answered {response.status}")
    response, content = browser.get("/readyz")
    expect(response.status == 200, f"/readyz answered {response.status}: {content[:200]!r}")
    expect(b'"status": "ok"' in content, f"/readyz is not ok: {content[:200]!r}")


def staff_journey(browser: Browser, email: str, password: str, totp_secret: str) -> None:
    landed = log_in(browser, email, password, totp_secret)
    response, _ = browser.get("/agents/")
    expect(response.status == 200, f"the staff home answered {response.status} ({landed})")


def basket_journey(browser: Browser, email: str, password: str) -> bytes:
    """A paid product into the basket, paid on the demo provider's page, its receipt (PDF)."""
    log_in(browser, email, password)
    path = "/mon-espace/achats/"
    response, content = browser.get(path)
    expect(response.status == 200, f"{path} answered {response.status}")
    offers = [f for f in parse(content.decode()).forms if f.action.endswith("/achats/acheter/")]
    expect(bool(offers), "no product to buy")
    for offer in offers:
        path, response, content = browser.submit("/mon-espace/achats/", offer)
        if "/paiements/commande/" in path:
            break
    else:
        raise SmokeFailure("no product went into the basket")
    # The card payment posts to the page itself; the wallet's button posts elsewhere.
    (pay,) = [f for f in parse(content.decode()).forms if "attempt" in f.fields and not f.action]
    path, response, content = browser.submit(path, pay)
    expect("/paiement/demo/" in path, f"paying led to {path}, not the demo provider")
    (demo,) = [f for f in parse(content.decode()).forms if ("outcome", "pay") in f.buttons]
    path, response, content = browser.submit(path, demo, extra={"outcome": "pay"})
    expect("/paiements/paiement/" in path, f"the demo payment led to {path}")
    for _ in range(60):  # the page refreshes while the provider's answer is awaited
        documents = [
            link for link in parse(content.decode()).links if re.search(r"/document/.+\.pdf$", link)
        ]
        if documents:
            break
        time.sleep(0.5)
        response, content = browser.get(path)
    else:
        raise SmokeFailure("no receipt after the payment")
    response, pdf = browser.get(_local(urljoin(path, documents[0])))
    expect(response.status == 200, f"the receipt answered {response.status}")
    expect(response.headers.get("Content-Type") == "application/pdf", "the receipt is not a PDF")
    expect(pdf.startswith(b"%PDF-"), "the receipt is not a PDF file")
    return pdf


def tap(browser: Browser, *, credential: str, token: str) -> dict:
    """A gate reader's tap (POST /api/v1/taps with its bearer token): granted."""
    body = json.dumps(
        {
            "tap_id": str(uuid.uuid4()),
            "credential": credential,
            "reader_time": datetime.now(UTC).isoformat(),
        }
    ).encode()
    response, content = browser.request(
        "POST",
        "/api/v1/taps",
        body=body,
        headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
    )
    expect(response.status == 200, f"the tap answered {response.status}: {content[:200]!r}")
    answer = json.loads(content)
    expect(answer.get("granted") is True, f"the tap was refused: {answer.get('reason')}")
    return answer


def scrape(browser: Browser, token: str, *, tapped: bool) -> str:
    response, content = browser.get("/metrics", headers={"Authorization": f"Bearer {token}"})
    expect(response.status == 200, f"/metrics answered {response.status}")
    text = content.decode()
    requests = sum(
        float(value)
        for value in re.findall(r"^sesame_http_requests_total\{[^}]*\} (\S+)$", text, re.M)
    )
    expect(requests >= len(browser.request_ids) - 1, f"/metrics counts {requests} requests")
    paid = re.search(r'^sesame_payments\{state="succeeded"\} (\S+)$', text, re.M)
    expect(paid is not None and float(paid.group(1)) >= 1, "/metrics counts no payment")
    granted = re.search(r'^sesame_taps_total\{granted="true",reason="granted"\} (\S+)$', text, re.M)
    expect(not tapped or (granted is not None and float(granted.group(1)) >= 1), "no tap counted")
    return text


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("base_url")
    parser.add_argument("--staff", required=True, help="a staff account's email")
    parser.add_argument("--totp-secret", required=True, help="its authenticator secret")
    parser.add_argument("--resident", required=True, help="a resident account's email")
    parser.add_argument("--password", required=True, help="both accounts' password")
    parser.add_argument(
        "--tap", help='a gate\'s tap to send: {"credential": SUN URL, "token": reader token}'
    )
    parser.add_argument("--metrics-token")
    parser.add_argument("--cafile", help="the certificate to trust over HTTPS (a test one)")
    options = parser.parse_args(argv)
    started = time.monotonic()

    def browser_from(address: str) -> Browser:
        return Browser(options.base_url, client_ip=address, cafile=options.cafile)

    browser = browser_from("203.0.113.7")
    try:
        probes(browser)
        print("probes: /healthz and /readyz ok")
        staff = browser_from("203.0.113.8")
        staff_journey(staff, options.staff, options.password, options.totp_secret)
        print(f"staff: {options.staff} logged in with the second factor")
        pdf = basket_journey(browser, options.resident, options.password)
        print(f"resident: basket paid on the demo provider, receipt downloaded ({len(pdf)} bytes)")
        if options.tap:
            answer = tap(browser_from("203.0.113.9"), **json.loads(options.tap))
            print(f"tap: granted ({answer['reason']})")
        if options.metrics_token:
            scrape(browser, options.metrics_token, tapped=bool(options.tap))
            print("metrics: requests and payments counted")
    except SmokeFailure as failure:
        print(f"smoke test failed: {failure}", file=sys.stderr)
        return 1
    print(f"smoke test passed in {time.monotonic() - started:.1f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
