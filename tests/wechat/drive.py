"""Plays the WeChat server against /wechat/callback with the real wechatpy package.

usage: drive.py BASE_URL TOKEN ENCODING_AES_KEY APP_ID DEPUTY_CODE DEPUTY_NAME
Prints one JSON line with what it saw; exits non-zero on the first broken expectation.
"""
import json
import random
import re
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
import xml.etree.ElementTree as ET

from wechatpy.crypto import WeChatCrypto
from wechatpy.utils import to_text

base, token, aes_key, app_id, deputy_code, deputy_name = sys.argv[1:7]
crypto = WeChatCrypto(token, aes_key, app_id)
OPENID = "oHeshunFollower%06d" % random.randint(0, 999999)
ACCOUNT = "gh_heshun_npc"


def fail(message):
    print(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    sys.exit(1)


def request(method, query, body=None):
    url = base + "/wechat/callback?" + urllib.parse.urlencode(query)
    data = body.encode("utf-8") if body is not None else None
    req = urllib.request.Request(url, data=data, method=method, headers={"Content-Type": "text/xml"})
    try:
        with urllib.request.urlopen(req, timeout=10) as response:
            return response.status, response.read().decode("utf-8")
    except urllib.error.HTTPError as error:
        return error.code, error.read().decode("utf-8", "replace")


def sign(*parts):
    import hashlib

    return hashlib.sha1("".join(sorted(parts)).encode("utf-8")).hexdigest()


def text_xml(content, msg_id):
    return (
        "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"
        "<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content>"
        "<MsgId>%s</MsgId></xml>" % (ACCOUNT, OPENID, int(time.time()), content, msg_id)
    )


def event_xml(event, key, create_time):
    return (
        "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"
        "<CreateTime>%d</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[%s]]></Event>"
        "<EventKey><![CDATA[%s]]></EventKey><Ticket><![CDATA[gQH47joAAAAAAAAAASxodHRwOi8v]]></Ticket></xml>"
        % (ACCOUNT, OPENID, create_time, event, key)
    )


def send_safe(plain_xml, tamper=False, garbage=False):
    """Encrypts like the WeChat server and posts in safe mode; returns (status, reply text)."""
    nonce = str(random.randint(10**8, 10**9))
    timestamp = str(int(time.time()))
    packed = ET.fromstring(crypto.encrypt_message(plain_xml, nonce, timestamp))
    encrypted = packed.find("Encrypt").text
    if garbage:
        encrypted = "A" * 44
    signature = sign(token, timestamp, nonce, encrypted)
    if tamper:
        signature = "0" * 40
    envelope = "<xml><ToUserName><![CDATA[%s]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>" % (ACCOUNT, encrypted)
    query = {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce,
             "openid": OPENID, "encrypt_type": "aes", "msg_signature": signature}
    status, body = request("POST", query, envelope)
    if status != 200:
        return status, body
    reply = ET.fromstring(body)
    decrypted = crypto.decrypt_message(
        body, reply.find("MsgSignature").text, reply.find("TimeStamp").text, reply.find("Nonce").text
    )
    return status, ET.fromstring(to_text(decrypted)).find("Content").text


def send_plain(plain_xml):
    nonce, timestamp = "123456", str(int(time.time()))
    status, body = request("POST", {"signature": sign(token, timestamp, nonce), "timestamp": timestamp, "nonce": nonce}, plain_xml)
    if status != 200:
        return status, body
    return status, ET.fromstring(body).find("Content").text


# 1. Server verification.
ts, nonce = str(int(time.time())), "998877"
status, body = request("GET", {"signature": sign(token, ts, nonce), "timestamp": ts, "nonce": nonce, "echostr": "echo-12345"})
if (status, body) != (200, "echo-12345"):
    fail("verification: %s %s" % (status, body))
status, _ = request("GET", {"signature": "0" * 40, "timestamp": ts, "nonce": nonce, "echostr": "x"})
if status != 403:
    fail("bad verification signature answered %s" % status)

# 2. Follow through the deputy's QR scene.
status, greeting = send_safe(event_xml("subscribe", "qrscene_" + deputy_code, int(time.time())))
if status != 200 or deputy_name not in greeting:
    fail("subscribe reply: %s %s" % (status, greeting))

# 3. A message in safe mode becomes an item; the reply carries its tracking code.
msg_id = str(random.randint(10**15, 10**16))
message = text_xml("我们小区门口的路灯坏了两个月,晚上出行很不方便,希望尽快修好。", msg_id)
status, reply = send_safe(message)
codes = re.findall(r"HS[0-9A-Z]{10}", reply or "")
if status != 200 or not codes:
    fail("text reply: %s %s" % (status, reply))
tracking = codes[0]

# 4. WeChat retries: the same MsgId gets the same reply and creates nothing.
status, again = send_safe(message)
if status != 200 or again != reply:
    fail("retry reply differs: %s / %s" % (again, reply))

# 5. A tampered signature, and an undecryptable body.
status, _ = send_safe(text_xml("篡改的消息内容,不应被保存。", str(random.randint(10**15, 10**16))), tamper=True)
if status != 403:
    fail("tampered signature answered %s" % status)
status, _ = send_safe(text_xml("无法解密的消息内容。", str(random.randint(10**15, 10**16))), garbage=True)
if status != 400:
    fail("undecryptable body answered %s" % status)

# 6. "查询" lists the follower's items.
status, listing = send_safe(text_xml("查询", str(random.randint(10**15, 10**16))))
if status != 200 or tracking not in listing:
    fail("query reply: %s %s" % (status, listing))

# 6b. A location message (GCJ-02, as WeChat sends it) places the latest open item.
location = (
    "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime>"
    "<MsgType><![CDATA[location]]></MsgType><Location_X>37.330912</Location_X><Location_Y>113.576871</Location_Y>"
    "<Scale>15</Scale><Label><![CDATA[山西省晋中市和顺县义兴镇]]></Label><MsgId>%d</MsgId></xml>"
    % (ACCOUNT, OPENID, int(time.time()), random.randint(10**15, 10**16))
)
status, placed = send_safe(location)
if status != 200 or tracking not in (placed or "") or "义兴镇" not in placed:
    fail("location reply: %s %s" % (status, placed))

# 7. Without the app secret (no media API) a photo is declined politely, pointing to
#    text messages and the mobile page.
image = (
    "<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName><CreateTime>%d</CreateTime>"
    "<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[https://example.invalid/a.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId>"
    "<MsgId>%d</MsgId></xml>" % (ACCOUNT, OPENID, int(time.time()) + 1, random.randint(10**15, 10**16))
)
status, polite = send_safe(image)
if status != 200 or "文字" not in polite or "手机页面" not in polite:
    fail("image reply: %s %s" % (status, polite))

# 8. Plain mode works too.
status, plain = send_plain(text_xml("村里的水渠堵塞了,雨季前需要清理。", str(random.randint(10**15, 10**16))))
plain_codes = re.findall(r"HS[0-9A-Z]{10}", plain or "")
if status != 200 or not plain_codes:
    fail("plain reply: %s %s" % (status, plain))

print(json.dumps({"ok": True, "trackingCode": tracking, "plainTrackingCode": plain_codes[0], "openId": OPENID}, ensure_ascii=False))
