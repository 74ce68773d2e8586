"""Records turns through a spool as fast as it can, printing each index once `record()` has
returned, until the test SIGKILLs it mid-stream.

    python _recorder_crash_child.py URL API_KEY SPOOL TURNS CONVERSATIONS
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[2]))

import synap
from tests.recorder._support import cid

url, api_key, spool, turns, conversations = sys.argv[1:]
client = synap.Synap(api_key=api_key, base_url=url, timeout=httpx.Timeout(10.0, read=0.25))
rec = client.conversation.recorder(spool=spool, max_batch=50, flush_interval=0.05)
out = sys.stdout
for i in range(int(turns)):
    c = i % int(conversations)
    rec.record(cid(c, "crash-"), "user", f"crash-{c} {i}", "u1", "c1")
    out.write(f"{i}\n")
    out.flush()
    if i % 50 == 49:
        time.sleep(0.05)  # a service's pace: the background thread is mid-stream
time.sleep(60)  # waits to be killed
