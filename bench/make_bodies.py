#!/usr/bin/env python3
"""Writes the webhook benchmark's request bodies as a Lua table for wrk.

Realistic variety: referrals through ref links with payloads, Get Started postbacks carrying a
referral, text messages, quick replies, notification opt-ins, and a few checkbox-plugin opt-ins
(the person known by a user_ref) with the replies that link them to a PSID (prior_message), from
many people on one page, each body unique (a fresh timestamp and mid) and signed exactly as Meta
signs it.
Usage: make_bodies.py APP_SECRET PAGE_ID COUNT OUT.lua
"""
import hashlib
import hmac
import json
import random
import sys

secret, page_id, count, out = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4]
random.seed(42)
base_ms = 1_795_000_000_000


def item(i):
    psid = str(6_200_000_000_000_000 + random.randrange(50_000))
    ts = base_ms + i * 7
    kinds = ["referral", "postback", "message", "quick_reply", "optin", "checkbox", "checkbox_reply"]
    kind = random.choices(kinds, [35, 15, 29, 15, 5, 0.5, 0.5])[0]
    common = {"sender": {"id": psid}, "recipient": {"id": page_id}, "timestamp": ts}
    # One checkbox user per PSID, so that some replies find their opt-in and some do not yet.
    user_ref = f"cb-{psid}"
    if kind == "checkbox":
        return {"recipient": {"id": page_id}, "timestamp": ts,
                "optin": {"ref": "tutorial--gold", "user_ref": user_ref}}
    if kind == "checkbox_reply":
        return {**common, "message": {"mid": f"m_cb_{i}", "text": "yes"},
                "prior_message": {"source": "checkbox_plugin", "identifier": user_ref}}
    if kind == "referral":
        ref = random.choice(["summer_coupon", "tutorial--gold--738--Berlin--514--42", "youtube", "tutorial--456"])
        return {**common, "referral": {"ref": ref, "source": "SHORTLINK", "type": "OPEN_THREAD"}}
    if kind == "postback":
        return {**common, "postback": {"mid": f"m_pb_{i}", "title": "Get Started", "payload": "GET_STARTED",
                                       "referral": {"ref": "tutorial--456", "source": "SHORTLINK", "type": "OPEN_THREAD"}}}
    if kind == "message":
        return {**common, "message": {"mid": f"m_txt_{i}", "text": random.choice(["hi", "price?", "Grüße 👋", "stop"])}}
    if kind == "quick_reply":
        return {**common, "message": {"mid": f"m_qr_{i}", "text": "Menu", "quick_reply": {"payload": "MENU"}}}
    return {**common, "optin": {"type": "notification_messages", "title": "weekly deals",
                                "notification_messages_token": f"NMT-{i:012d}",
                                "notification_messages_topic": "weekly deals",
                                "notification_messages_frequency": "WEEKLY",
                                "notification_messages_timezone": "Europe/Berlin",
                                "token_expiry_timestamp": base_ms + 31_536_000_000}}


def lua_string(data: bytes) -> str:
    """A Lua string literal holding exactly these bytes (LuaJIT knows only decimal escapes)."""
    out = []
    for b in data:
        if 32 <= b < 127 and b not in (34, 92):
            out.append(chr(b))
        else:
            out.append("\\%03d" % b)
    return '"' + "".join(out) + '"'


# LuaJIT allows 65,536 constants per function: fill the table from several small functions.
CHUNK = 10_000

with open(out, "w") as lua:
    lua.write("bodies = {}\n")
    for i in range(count):
        if i % CHUNK == 0:
            if i:
                lua.write("end\nfill()\n")
            lua.write("fill = function() local b = bodies\n")
        body = json.dumps({"object": "page", "entry": [{"id": page_id, "time": base_ms + i * 7, "messaging": [item(i)]}]},
                          separators=(",", ":"), ensure_ascii=False).encode()
        sig = "sha256=" + hmac.new(secret.encode(), body, hashlib.sha256).hexdigest()
        lua.write("b[#b+1]={%s,%s}\n" % (lua_string(body), lua_string(sig.encode())))
    if count:
        lua.write("end\nfill()\n")
