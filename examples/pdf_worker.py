#!/usr/bin/env python3
"""pdf_worker - an external worker for flowhost, in Python with its standard library only.

It serves the "pdf" topic of flows/invoice_pdf.lua: it fetches rendering tasks over HTTP,
writes a one-page PDF invoice for each into --out, and completes the task with the PDF's
address and page count.  A rendering that fails is reported with POST .../fail, so the
flow's :Retry decides when it comes back.  Long work extends its lease before it runs out.
When there is nothing to do it waits, longer each time (up to --idle-max seconds).
SIGTERM or SIGINT stops it after the task at hand.

    flowhost token create pdfbot          # a user holding the permission external.pdf
    FLOWHOST_TOKEN=... examples/pdf_worker.py --url http://127.0.0.1:8080 --out /tmp/pdfs

The routes (docs/http-api.md, "External tasks"):
    POST /api/external/fetch          {"worker", "topics", "max", "lease"} -> {"items": [...]}
    POST /api/external/{id}/complete  {"worker", "data"}
    POST /api/external/{id}/fail      {"worker", "message", "retry_in"?}
    POST /api/external/{id}/extend    {"worker", "lease"}
"""

import argparse
import json
import os
import signal
import socket
import sys
import time
import urllib.error
import urllib.request


class Api:
    """The four calls, with the bearer token; an HTTP error raises ApiError."""

    def __init__(self, url, token, worker, timeout=30):
        self.url = url.rstrip("/")
        self.token = token
        self.worker = worker
        self.timeout = timeout

    def post(self, path, body):
        body = dict(body, worker=self.worker)
        req = urllib.request.Request(
            self.url + path, data=json.dumps(body).encode(), method="POST",
            headers={"Content-Type": "application/json", "Authorization": "Bearer " + self.token})
        try:
            with urllib.request.urlopen(req, timeout=self.timeout) as res:
                return json.load(res)
        except urllib.error.HTTPError as e:
            try:
                error = json.load(e).get("error", {})
            except ValueError:
                error = {}
            raise ApiError(e.code, error.get("code", "?"), error.get("message", str(e))) from None

    def fetch(self, topics, max_tasks, lease):
        return self.post("/api/external/fetch", {"topics": topics, "max": max_tasks, "lease": lease})["items"]

    def complete(self, task_id, data):
        return self.post("/api/external/%d/complete" % task_id, {"data": data})

    def fail(self, task_id, message, retry_in=None):
        body = {"message": message[:4000]}
        if retry_in is not None:
            body["retry_in"] = retry_in
        return self.post("/api/external/%d/fail" % task_id, body)

    def extend(self, task_id, lease):
        return self.post("/api/external/%d/extend" % task_id, {"lease": lease})


class ApiError(Exception):
    def __init__(self, status, code, message):
        super().__init__("%d %s: %s" % (status, code, message))
        self.status = status


class Lease:
    """Keeps a task's lease alive during long work: extends it once a third of it has passed."""

    def __init__(self, api, task_id, seconds):
        self.api, self.task_id, self.seconds = api, task_id, seconds
        self.renewed = time.monotonic()

    def keep_alive(self):
        if time.monotonic() - self.renewed > self.seconds / 3:
            self.api.extend(self.task_id, self.seconds)
            self.renewed = time.monotonic()


def pdf_escape(text):
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def render_invoice(task, out_dir, lease, step_seconds):
    """Writes a one-page PDF (hand-built: the standard library has no PDF writer)."""
    data = task.get("data") or {}
    customer = data.get("customer")
    amount = data.get("amount")
    if not isinstance(customer, str) or not customer:
        raise ValueError("the invoice has no customer")
    if not isinstance(amount, (int, float)) or amount < 0:
        raise ValueError("the invoice has no valid amount")
    lines = ["Invoice %d" % task["process_id"], "Customer: %s" % customer, "Amount: %.2f" % amount]
    for _ in lines:   # stands for the slow part of real rendering
        time.sleep(step_seconds)
        lease.keep_alive()
    text = "BT /F1 14 Tf 72 720 Td 18 TL " + " ".join("(%s) '" % pdf_escape(l) for l in lines) + " ET"
    objects = [
        "<< /Type /Catalog /Pages 2 0 R >>",
        "<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] /Contents 4 0 R"
        " /Resources << /Font << /F1 5 0 R >> >> >>",
        "<< /Length %d >>\nstream\n%s\nendstream" % (len(text), text),
        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>",
    ]
    pdf, offsets = "%PDF-1.4\n", []
    for i, obj in enumerate(objects, 1):
        offsets.append(len(pdf.encode("latin-1", "replace")))
        pdf += "%d 0 obj\n%s\nendobj\n" % (i, obj)
    xref = len(pdf.encode("latin-1", "replace"))
    pdf += "xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    pdf += "".join("%010d 00000 n \n" % o for o in offsets)
    pdf += "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, xref)
    path = os.path.join(out_dir, "invoice-%d.pdf" % task["process_id"])
    with open(path + ".part", "wb") as f:
        f.write(pdf.encode("latin-1", "replace"))
    os.replace(path + ".part", path)   # a reader never sees half a file
    return {"pdf_url": "file://" + os.path.abspath(path), "pages": 1}


def work_on(api, task, args, log):
    """One task: render, then complete; a rendering error is reported as a failure."""
    lease = Lease(api, task["id"], args.lease)
    try:
        result = render_invoice(task, args.out, lease, args.step)
    except ApiError as e:   # the lease could not be extended: someone else has the task now
        log("task %d: lease lost (%s)" % (task["id"], e))
        return
    except Exception as e:  # the work itself failed: the flow's :Retry decides what next
        log("task %d failed: %s" % (task["id"], e))
        try:
            api.fail(task["id"], "%s: %s" % (type(e).__name__, e))
        except ApiError as fe:
            log("task %d: could not report the failure (%s)" % (task["id"], fe))
        return
    try:
        api.complete(task["id"], result)
        log("task %d done: %s" % (task["id"], result["pdf_url"]))
    except ApiError as e:   # 409: the lease ran out meanwhile; 400: the flow refused the data
        log("task %d: not completed (%s)" % (task["id"], e))


def main():
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--url", default=os.environ.get("FLOWHOST_URL", "http://127.0.0.1:8080"))
    p.add_argument("--token", default=os.environ.get("FLOWHOST_TOKEN"), help="API token (or FLOWHOST_TOKEN)")
    p.add_argument("--worker", default="%s-%d" % (socket.gethostname()[:40], os.getpid()))
    p.add_argument("--topic", action="append", help="topics to serve (default: pdf)")
    p.add_argument("--max", type=int, default=5, help="tasks per fetch (1..100)")
    p.add_argument("--lease", type=float, default=60, help="seconds a fetched task stays ours")
    p.add_argument("--out", default=".", help="folder for the PDFs")
    p.add_argument("--step", type=float, default=0.05, help="seconds of (simulated) work per line")
    p.add_argument("--idle-max", type=float, default=10, help="longest wait between empty fetches")
    p.add_argument("--until-idle", action="store_true", help="stop at the first empty fetch")
    args = p.parse_args()
    if not args.token:
        p.error("an API token is needed (--token or FLOWHOST_TOKEN)")
    os.makedirs(args.out, exist_ok=True)
    topics = args.topic or ["pdf"]
    api = Api(args.url, args.token, args.worker)

    def log(msg):
        print("pdf_worker %s: %s" % (args.worker, msg), file=sys.stderr, flush=True)

    stopping = []
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, lambda *_: stopping.append(True))

    idle = 0.0
    while not stopping:
        try:
            items = api.fetch(topics, args.max, args.lease)
        except (ApiError, OSError) as e:   # host down or refusing: back off, try again
            log("fetch failed: %s" % e)
            items = None
        if items:
            idle = 0.0
            for task in items:
                if stopping:
                    break          # the rest go back to the pool when their lease runs out
                work_on(api, task, args, log)
            continue
        if items is not None and args.until_idle:
            break
        idle = min(args.idle_max, idle * 2 if idle else 0.5)
        deadline = time.monotonic() + idle
        while not stopping and time.monotonic() < deadline:
            time.sleep(min(0.1, idle))
    log("stopped")
    return 0


if __name__ == "__main__":
    sys.exit(main())
