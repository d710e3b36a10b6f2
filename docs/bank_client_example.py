"""A minimal client of the TMCS bank API, standard library only (see docs/bank-api.md).

    export TMCS_URL=http://127.0.0.1:8000 TMCS_TOKEN=<the token shown once on the API-client page>
    python docs/bank_client_example.py lookup --asset ZY33110219920100000042
    python docs/bank_client_example.py lookup --holder-id 33110219650312013X
    python docs/bank_client_example.py pledge --application 12 --right 34 --amount 300000.00 \
        --bank-reference ZH-2026-001
    python docs/bank_client_example.py loans

What it shows: token authentication, the `{code, detail, fields}` errors, waiting on 429 as the
`Retry-After` header says, and retrying a POST safely: the same `Idempotency-Key` is sent again,
so a pledge is registered once even if the first answer was lost on the way back.
"""

import argparse
import json
import os
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid


class ApiError(Exception):
    """An answer in the platform's error format: {"code": ..., "detail": ..., "fields": {...}}."""

    def __init__(self, status, body):
        self.status = status
        self.code = body.get("code", "error")
        self.detail = body.get("detail", "")
        self.fields = body.get("fields", {})
        super().__init__(f"HTTP {status} {self.code}: {self.detail} {self.fields or ''}".strip())


class TmcsClient:
    def __init__(self, base_url, token, *, timeout=30, attempts=4):
        if urllib.parse.urlsplit(base_url).scheme not in ("http", "https"):
            raise ValueError("TMCS_URL must be an http(s) address")
        self.base_url = base_url.rstrip("/") + "/api/v1/finance/"
        self.token = token
        self.timeout = timeout
        self.attempts = attempts

    def _send(self, method, path, *, params=None, body=None, idempotency_key=None):
        url = self.base_url + path
        if params:
            url += "?" + urllib.parse.urlencode(params)
        headers = {"Authorization": f"Token {self.token}", "Accept": "application/json"}
        data = None
        if body is not None:
            data = json.dumps(body).encode()
            headers["Content-Type"] = "application/json"
        if idempotency_key:
            headers["Idempotency-Key"] = idempotency_key
        # The scheme was checked in __init__: only http(s) is ever opened.
        request = urllib.request.Request(url, data=data, headers=headers, method=method)  # noqa: S310
        with urllib.request.urlopen(request, timeout=self.timeout) as response:  # noqa: S310
            payload = response.read()
            return json.loads(payload) if payload else None

    def request(self, method, path, **kwargs):
        """GETs, and POSTs carrying an Idempotency-Key, are retried on 429, 5xx and lost
        connections; a POST without a key is sent once (a retry could do the work twice)."""
        retriable = method == "GET" or kwargs.get("idempotency_key")
        for attempt in range(1, self.attempts + 1):
            try:
                return self._send(method, path, **kwargs)
            except urllib.error.HTTPError as exc:
                try:
                    body = json.loads(exc.read() or b"{}")
                except ValueError:
                    body = {"code": "error", "detail": exc.reason}
                if retriable and attempt < self.attempts and (exc.code == 429 or exc.code >= 500):
                    time.sleep(float(exc.headers.get("Retry-After") or 2**attempt))
                    continue
                raise ApiError(exc.code, body) from None
            except (urllib.error.URLError, TimeoutError):
                if not retriable or attempt == self.attempts:
                    raise
                time.sleep(2**attempt)
        raise AssertionError("unreachable")

    def pages(self, path, params=None):
        """Every item of a paginated list (`{count, next, previous, results}`)."""
        params = dict(params or {}, page=1)
        while True:
            body = self.request("GET", path, params=params)
            yield from body["results"]
            if not body["next"]:
                return
            params["page"] += 1

    # --- the bank's calls --------------------------------------------------------------------

    def collateral(self, **lookup):
        """Exactly one of asset=, certificate=, holder_id=, holder_uscc=."""
        return list(self.pages("collateral/", lookup))

    def request_pledge(self, *, application, right, secured_amount, rank=None, bank_reference="", key=None):
        body = {"application": application, "right": right, "secured_amount": str(secured_amount)}
        if rank is not None:
            body["rank"] = rank
        if bank_reference:
            body["bank_reference"] = bank_reference
        # Keep the key with the bank's own record of the request (here: derived from the bank's
        # reference) so that a retry after a crash sends the same key again.
        key = key or (f"pledge-{bank_reference}" if bank_reference else str(uuid.uuid4()))
        return self.request("POST", "pledges/", body=body, idempotency_key=key)

    def loans(self):
        return list(self.pages("loans/"))


def main():
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    commands = parser.add_subparsers(dest="command", required=True)
    lookup = commands.add_parser("lookup", help="押品查询")
    keys = lookup.add_mutually_exclusive_group(required=True)
    keys.add_argument("--asset")
    keys.add_argument("--certificate")
    keys.add_argument("--holder-id")
    keys.add_argument("--holder-uscc")
    pledge = commands.add_parser("pledge", help="申请抵质押登记（Idempotency-Key）")
    pledge.add_argument("--application", type=int, required=True)
    pledge.add_argument("--right", type=int, required=True)
    pledge.add_argument("--amount", required=True)
    pledge.add_argument("--rank", type=int)
    pledge.add_argument("--bank-reference", default="")
    commands.add_parser("loans", help="本行贷款")
    args = parser.parse_args()

    client = TmcsClient(os.environ.get("TMCS_URL", "http://127.0.0.1:8000"), os.environ["TMCS_TOKEN"])
    try:
        if args.command == "lookup":
            lookup_key = {
                name: value
                for name, value in (
                    ("asset", args.asset),
                    ("certificate", args.certificate),
                    ("holder_id", args.holder_id),
                    ("holder_uscc", args.holder_uscc),
                )
                if value
            }
            result = client.collateral(**lookup_key)
        elif args.command == "pledge":
            result = client.request_pledge(
                application=args.application,
                right=args.right,
                secured_amount=args.amount,
                rank=args.rank,
                bank_reference=args.bank_reference,
            )
        else:
            result = client.loans()
    except ApiError as exc:
        print(json.dumps({"code": exc.code, "detail": exc.detail, "fields": exc.fields}, ensure_ascii=False))
        return 1
    print(json.dumps(result, ensure_ascii=False, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
