"""Drives /open311/v2 with two Open311 GeoReport v2 clients from PyPI, unmodified:
civicbot's Open311Client (JSON: services, a definition, filing a request with the key,
reading it back, listing) and georeport's GeoReport (XML: the same reads).

usage: drive.py BASE_URL API_KEY JURISDICTION_ID
Prints one JSON line with what it saw; exits non-zero on the first broken expectation.
"""
import json
import sys

from civicbot import Endpoint, HttpError, HttpTransport, Open311Client
from civicbot.http import RateLimiter
from georeport import GeoReport

base, api_key, jurisdiction = sys.argv[1:4]
DESCRIPTION = "滨河路口的路灯坏了三天，晚上过马路很危险，请尽快修好。"
PHONE = "13900000777"
# The place filed, and what the public is told: rounded to 0.01° by hand.
LAT, LONG = 37.32968, 113.56842
PUBLIC_LAT, PUBLIC_LONG = 37.33, 113.57
ADDRESS = "和顺县滨河社区滨河路12号"


def fail(message):
    print(json.dumps({"ok": False, "error": message}, ensure_ascii=False))
    sys.exit(1)


def check(condition, message):
    if not condition:
        fail(message)


# A local server: no politeness delay between calls.
transport = HttpTransport(rate_limiter=RateLimiter(min_interval=0.0))
endpoint = Endpoint(id="heshun", name="和顺县人大", base_url=base, write=True)
client = Open311Client(endpoint, transport=transport, jurisdiction_id=jurisdiction)

services = client.list_services()
check(isinstance(services, list) and services, f"no services: {services!r}")
code = services[0]["service_code"]
check(all(s.get("metadata") is False for s in services), f"metadata: {services!r}")

definition = client.get_service_definition(code)
check(definition.get("service_code") == code, f"definition: {definition!r}")

filed = client.create_request(
    code,
    dry_run=False,
    confirm="SEND",
    api_key=api_key,
    validate_remote=True,
    lat=LAT,
    lng=LONG,
    address_string=ADDRESS,
    description=DESCRIPTION,
    first_name="张",
    last_name="三",
    phone=PHONE,
)
answer = filed.response
check(isinstance(answer, list) and answer and answer[0].get("service_request_id"), f"POST: {answer!r}")
request_id = answer[0]["service_request_id"]

read = client.get_request(request_id)
check(read and read["service_request_id"] == request_id, f"read back: {read!r}")
check(read["status"] == "open" and read["service_code"] == code, f"read back: {read!r}")
check((read.get("lat"), read.get("long")) == (PUBLIC_LAT, PUBLIC_LONG), f"rounded place: {read!r}")
text = json.dumps(read, ensure_ascii=False)
for private in (DESCRIPTION, PHONE, "张", "三", ADDRESS, str(LAT), str(LONG)):
    check(private not in text, f"{private} is public: {text}")

listed = client.list_requests(service_code=code, status="open")
check(any(r["service_request_id"] == request_id for r in listed), f"not listed: {listed!r}")

try:
    client.create_request(code, dry_run=False, confirm="SEND", api_key="not-a-key",
                          address_string="和顺县", description=DESCRIPTION)
    fail("a wrong key filed a request")
except HttpError as error:
    body = json.loads(error.body)
    check(error.status == 403 and body[0]["code"] == 403, f"wrong key: {error.status} {error.body}")

xml = GeoReport(base, jurisdiction=jurisdiction, output_format="xml")
xml_services = xml.get_service_list()
xml_services = xml_services if isinstance(xml_services, list) else [xml_services]
check(any(s["service_code"] == code for s in xml_services), f"XML services: {xml_services!r}")
check(xml.get_service_definition(code)["service_code"] == code, "XML definition")
xml_read = xml.get_service_request(request_id)
check(xml_read["service_request_id"] == request_id and xml_read["status"] == "open", f"XML read: {xml_read!r}")
check((xml_read.get("lat"), xml_read.get("long")) == (str(PUBLIC_LAT), str(PUBLIC_LONG)), f"XML place: {xml_read!r}")
xml_listed = xml.get_service_requests(service_request_id=request_id)
check(xml_listed["service_request_id"] == request_id, f"XML list: {xml_listed!r}")

print(json.dumps({"ok": True, "service_request_id": request_id, "service_code": code}, ensure_ascii=False))
