#!/usr/bin/env python3
"""Concurrent clients for the generated web API (tokenidle generate --web-api), on 127.0.0.1 only.

  load.py labels URL --expect PREDICT.jsonl [--clients 16]
      posts every image `tokenidle predict` scored (its JSON lines) from concurrent clients; fails unless every answer
      has predict's label and probability, and the server formed batches of more than one request (GET /stats).
  load.py overload URL IMAGE [--clients 64] [--requests 640] [--timeout 30]
      many clients at once against a small queue: some answers are 503 with Retry-After, none other than 200/503, none
      later than the timeout, and /health answers 200 afterwards.
  load.py errors URL IMAGE --max-bytes N
      a body that is not an image -> 400, over N bytes -> 413, another content type -> 415, a form without 'image' -> 400.
  load.py reload URL --old OLD.jsonl --new NEW.jsonl --swap 'COMMAND' [--clients 8]
      clients post images in a loop while COMMAND replaces the served zip: no request fails, every answer is the old or
      the new model's, and after /stats counts the reload every answer is the new model's.
  load.py memory URL IMAGE --pid PID [--requests 10000] [--clients 16] [--max-growth-mb 64]
      RSS of PID after a warm-up of 1,000 requests and after REQUESTS more: fails when it grew more than the bound.
  load.py bench URL IMAGES_DIR --clients N --seconds S
      requests per second and p50/p99 latency (one JSON line).
Every loop is bounded in count and time; every request has a timeout.
"""
import argparse
import http.client
import json
import os
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
import uuid

TIMEOUT = 60


def connect(url, timeout=TIMEOUT):
    parsed = urllib.parse.urlparse(url)
    if parsed.hostname != "127.0.0.1":
        sys.exit(f"load.py: only 127.0.0.1 is allowed, got {url}")
    return http.client.HTTPConnection(parsed.hostname, parsed.port, timeout=timeout)


def request(connection, method, path, body=None, headers=None):
    """(status, headers, parsed JSON or text, seconds); reconnects once when the server closed a kept-alive connection."""
    for attempt in (0, 1):
        start = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers or {})
            response = connection.getresponse()
            data = response.read()
            seconds = time.perf_counter() - start
            text = data.decode("utf-8", "replace")
            try:
                parsed = json.loads(text) if text else None
            except json.JSONDecodeError:
                parsed = text
            return response.status, dict(response.getheaders()), parsed, seconds
        except (ConnectionResetError, BrokenPipeError, http.client.RemoteDisconnected):
            connection.close()
            if attempt:
                raise


def post_image(connection, image_bytes, content_type="image/png"):
    return request(connection, "POST", "/predict", image_bytes, {"Content-Type": content_type})


def multipart(field, filename, data):
    boundary = uuid.uuid4().hex
    body = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{filename}\"\r\n"
            f"Content-Type: image/png\r\n\r\n").encode() + data + f"\r\n--{boundary}--\r\n".encode()
    return body, {"Content-Type": f"multipart/form-data; boundary={boundary}"}


def get(url, path):
    connection = connect(url, 10)
    try:
        return request(connection, "GET", path)
    finally:
        connection.close()


def run_clients(url, clients, work, timeout=TIMEOUT):
    """Runs work(connection, client_index) on CLIENTS threads; returns their results; raises the first error."""
    results, errors = [None] * clients, []

    def client(i):
        connection = connect(url, timeout)
        try:
            results[i] = work(connection, i)
        except Exception as e:  # reported below, with the client
            errors.append(f"client {i}: {e!r}")
        finally:
            connection.close()

    threads = [threading.Thread(target=client, args=(i,)) for i in range(clients)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout + 600)
        if t.is_alive():
            sys.exit("load.py: a client did not finish in time")
    if errors:
        sys.exit("load.py: " + "; ".join(errors[:5]))
    return results


def read_jsonl(path):
    with open(path) as f:
        return [json.loads(line) for line in f if line.strip()]


def labels(args):
    expected = read_jsonl(args.expect)
    images = [(e["image"], open(e["image"], "rb").read()) for e in expected]
    by_image = {e["image"]: e for e in expected}

    def work(connection, i):
        answers = []
        for k in range(i, len(images), args.clients):
            path, data = images[k]
            if k % 2:
                body, headers = multipart("image", os.path.basename(path), data)
                status, _, answer, _ = request(connection, "POST", "/predict", body, headers)
            else:
                status, _, answer, _ = post_image(connection, data)
            answers.append((path, status, answer))
        return answers

    answers = [a for client in run_clients(args.url, args.clients, work) for a in client]
    wrong = [(p, s, a) for p, s, a in answers if s != 200 or a["predicted"] != by_image[p]["predicted"]
             or abs(a["probability"] - by_image[p]["probability"]) > 2e-6]
    _, _, stats, _ = get(args.url, "/stats")
    print(json.dumps({"check": "labels", "images": len(answers), "clients": args.clients, "differing": len(wrong), "stats": stats}))
    if len(answers) != len(images) or wrong:
        sys.exit(f"load.py labels: {len(wrong)} of {len(answers)} answers differ from tokenidle predict, e.g. {wrong[:3]}")
    if stats["largestBatch"] < 2:
        sys.exit(f"load.py labels: no batch of more than one request was formed ({stats})")


def overload(args):
    data = open(args.image, "rb").read()
    per_client = args.requests // args.clients

    def work(connection, i):
        seen = []
        for _ in range(per_client):
            start = time.perf_counter()
            status, headers, answer, _ = post_image(connection, data)
            seen.append((status, headers.get("Retry-After"), time.perf_counter() - start, answer))
        return seen

    seen = [s for client in run_clients(args.url, args.clients, work, args.timeout + 5) for s in client]
    counts = {}
    for status, _, _, _ in seen:
        counts[status] = counts.get(status, 0) + 1
    slowest = max(s[2] for s in seen)
    health, _, _, _ = get(args.url, "/health")
    print(json.dumps({"check": "overload", "requests": len(seen), "statuses": counts, "slowest_seconds": round(slowest, 3), "health_after": health}))
    bad = [s for s in seen if s[0] not in (200, 503) or (s[0] == 503 and not s[1])]
    if bad:
        sys.exit(f"load.py overload: answers other than 200 or 503 with Retry-After: {bad[:3]}")
    if counts.get(503, 0) == 0:
        sys.exit("load.py overload: the queue bound refused nothing")
    if slowest > args.timeout:
        sys.exit(f"load.py overload: a request took {slowest:.1f} s, past the {args.timeout} s timeout")
    if health != 200:
        sys.exit(f"load.py overload: /health answered {health} afterwards")


def errors(args):
    data = open(args.image, "rb").read()
    connection = connect(args.url)
    cases = [
        ("not an image", 400, lambda: post_image(connection, b"this is not an image")),
        ("empty body", 400, lambda: post_image(connection, b"")),
        ("over the size limit", 413, lambda: post_image(connection, data + b"\0" * (args.max_bytes + 1))),
        ("another content type", 415, lambda: post_image(connection, b"{}", "application/json")),
        ("form without 'image'", 400, lambda: request(connection, "POST", "/predict", *multipart("picture", "x.png", data))),
    ]
    failures = []
    for name, expected, call in cases:
        status, _, answer, _ = call()
        if expected == 413:
            connection.close()  # the server may close the connection after refusing a large body
        one_line = isinstance(answer, dict) and set(answer) == {"error"} and "\n" not in answer["error"]
        print(json.dumps({"check": "errors", "case": name, "status": status, "answer": answer}))
        if status != expected or not one_line:
            failures.append(f"{name}: expected {expected} with a one-line JSON error, got {status} {answer!r}")
    status, _, _, _ = post_image(connection, data)
    if status != 200:
        failures.append(f"a good image after the bad ones: {status}")
    if failures:
        sys.exit("load.py errors: " + "; ".join(failures))


def reload(args):
    old = {e["image"]: e["predicted"] for e in read_jsonl(args.old)}
    new = {e["image"]: e["predicted"] for e in read_jsonl(args.new)}
    differing = [p for p in old if old[p] != new[p]]
    if not differing:
        sys.exit("load.py reload: the two models predict the same labels; the switch would not show")
    images = [(p, open(p, "rb").read()) for p in differing]
    _, _, before, _ = get(args.url, "/stats")
    stop, swapped_at = threading.Event(), [None]

    def work(connection, i):
        seen, k, deadline = [], i, time.monotonic() + 120
        while not stop.is_set() and time.monotonic() < deadline:
            path, data = images[k % len(images)]
            status, _, answer, _ = post_image(connection, data)
            seen.append((time.monotonic(), path, status, answer))
            k += args.clients
        return seen

    def swap():
        time.sleep(2)
        subprocess.run(args.swap, shell=True, check=True)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            _, _, stats, _ = get(args.url, "/stats")
            if stats["reloads"] > before["reloads"]:
                swapped_at[0] = time.monotonic()
                break
            time.sleep(0.1)
        time.sleep(2)
        stop.set()

    swapper = threading.Thread(target=swap)
    swapper.start()
    seen = [s for client in run_clients(args.url, args.clients, work) for s in client]
    swapper.join()
    failed = [s for s in seen if s[2] != 200]
    neither = [s for s in seen if s[2] == 200 and s[3]["predicted"] not in (old[s[1]], new[s[1]])]
    # A request sent before /stats showed the reload may have been scored by either model; one sent after, only the new.
    stale = [s for s in seen if swapped_at[0] and s[0] > swapped_at[0] + 1 and s[2] == 200 and s[3]["predicted"] != new[s[1]]]
    after = sum(1 for s in seen if swapped_at[0] and s[0] > swapped_at[0] + 1)
    print(json.dumps({"check": "reload", "requests": len(seen), "failed": len(failed), "after_reload": after, "stale_after_reload": len(stale)}))
    if swapped_at[0] is None:
        sys.exit("load.py reload: the server did not count a reload within 60 s")
    if failed or neither or stale or after == 0:
        sys.exit(f"load.py reload: failed {failed[:2]}, neither model's answer {neither[:2]}, old answers after the reload {stale[:2]}, {after} requests after it")


def rss_mb(pid):
    with open(f"/proc/{pid}/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for {pid}")


def memory(args):
    data = open(args.image, "rb").read()

    def send(total):
        def work(connection, i):
            for _ in range(total // args.clients):
                status, _, answer, _ = post_image(connection, data)
                if status != 200:
                    raise RuntimeError(f"status {status}: {answer}")
        run_clients(args.url, args.clients, work)

    send(1000)
    start = rss_mb(args.pid)
    began = time.perf_counter()
    send(args.requests)
    seconds = time.perf_counter() - began
    end = rss_mb(args.pid)
    print(json.dumps({"check": "memory", "requests": args.requests, "rss_mb_after_warmup": round(start, 1), "rss_mb_after": round(end, 1),
                      "growth_mb": round(end - start, 1), "bound_mb": args.max_growth_mb, "seconds": round(seconds, 1)}))
    if end - start > args.max_growth_mb:
        sys.exit(f"load.py memory: resident memory grew {end - start:.1f} MB over {args.requests} requests (bound {args.max_growth_mb} MB)")


def bench(args):
    files = sorted(os.path.join(d, f) for d, _, fs in os.walk(args.images) for f in fs)
    images = [open(f, "rb").read() for f in files]
    deadline = time.monotonic() + args.seconds

    def work(connection, i):
        latencies, k = [], i
        post_image(connection, images[k % len(images)])  # warm the connection
        while time.monotonic() < deadline:
            status, _, answer, seconds = post_image(connection, images[k % len(images)])
            if status != 200:
                raise RuntimeError(f"status {status}: {answer}")
            latencies.append(seconds)
            k += args.clients
        return latencies

    began = time.monotonic()
    latencies = sorted(x for client in run_clients(args.url, args.clients, work) for x in client)
    elapsed = time.monotonic() - began
    _, _, stats, _ = get(args.url, "/stats")
    print(json.dumps({"clients": args.clients, "requests": len(latencies), "requests_per_second": round(len(latencies) / elapsed, 2),
                      "p50_ms": round(1000 * statistics.median(latencies), 2), "p99_ms": round(1000 * latencies[int(0.99 * (len(latencies) - 1))], 2),
                      "largest_batch": stats["largestBatch"], "batches": stats["batches"], "scored": stats["scored"]}))


def main():
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    commands = parser.add_subparsers(dest="command", required=True)
    p = commands.add_parser("labels"); p.add_argument("url"); p.add_argument("--expect", required=True); p.add_argument("--clients", type=int, default=16)
    p = commands.add_parser("overload"); p.add_argument("url"); p.add_argument("image"); p.add_argument("--clients", type=int, default=64)
    p.add_argument("--requests", type=int, default=640); p.add_argument("--timeout", type=float, default=30)
    p = commands.add_parser("errors"); p.add_argument("url"); p.add_argument("image"); p.add_argument("--max-bytes", type=int, required=True)
    p = commands.add_parser("reload"); p.add_argument("url"); p.add_argument("--old", required=True); p.add_argument("--new", required=True)
    p.add_argument("--swap", required=True); p.add_argument("--clients", type=int, default=8)
    p = commands.add_parser("memory"); p.add_argument("url"); p.add_argument("image"); p.add_argument("--pid", required=True)
    p.add_argument("--requests", type=int, default=10000); p.add_argument("--clients", type=int, default=16); p.add_argument("--max-growth-mb", type=float, default=64)
    p = commands.add_parser("bench"); p.add_argument("url"); p.add_argument("images"); p.add_argument("--clients", type=int, required=True)
    p.add_argument("--seconds", type=float, default=10)
    args = parser.parse_args()
    {"labels": labels, "overload": overload, "errors": errors, "reload": reload, "memory": memory, "bench": bench}[args.command](args)


if __name__ == "__main__":
    main()
