"""Posts signed webhook deliveries, each with a unique message id, from a few threads until
told to stop, and records what each got: the HTTP status, or the connection error.

    python3 faults/load.py URL APP_SECRET PAGE_ID SECONDS OUT_FILE

OUT_FILE gets one line per delivery: "<mid> <status>" (status 0 = no answer).
"""

import hashlib
import hmac
import json
import sys
import threading
import time
import urllib.error
import urllib.request

url, secret, page, seconds, out_path = sys.argv[1], sys.argv[2].encode(), sys.argv[3], float(sys.argv[4]), sys.argv[5]
deadline = time.time() + seconds
results = []
lock = threading.Lock()


def deliver(thread, n):
    mid = f"m_fault_{thread}_{n}"
    now = int(time.time() * 1000)
    body = json.dumps({
        "object": "page",
        "entry": [{"id": page, "time": now, "messaging": [{
            "sender": {"id": str(6100000000000000 + thread * 100000 + n % 50)},
            "recipient": {"id": page},
            "timestamp": now,
            "message": {"mid": mid, "text": f"hello {n}"},
        }]}],
    }).encode()
    signature = "sha256=" + hmac.new(secret, body, hashlib.sha256).hexdigest()
    request = urllib.request.Request(url, data=body, method="POST", headers={
        "Content-Type": "application/json", "X-Hub-Signature-256": signature})
    try:
        with urllib.request.urlopen(request, timeout=10) as response:
            status = response.status
    except urllib.error.HTTPError as error:
        status = error.code
    except Exception:
        status = 0
    with lock:
        results.append((mid, status))


def worker(thread):
    n = 0
    while time.time() < deadline:
        deliver(thread, n)
        n += 1


threads = [threading.Thread(target=worker, args=(t,)) for t in range(8)]
for t in threads:
    t.start()
for t in threads:
    t.join()
with open(out_path, "w") as out:
    for mid, status in results:
        out.write(f"{mid} {status}\n")
