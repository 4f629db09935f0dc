"""Signs a recorded SendSms request again with Tencent Cloud's own Python SDK and
compares the Authorization header (tests/api/sms.rs runs it).

Reads one JSON object on stdin: {"secretId", "secretKey", "region", "headers": {lower-case
name: value}, "body": the request body exactly as sent}. The SDK builds the request
for the recorded host, action, version, region and time, over the very same body
bytes (its json.dumps is given the recorded text: JSON has more than one spelling of
one object, and the signature covers the bytes), and signs it (TC3-HMAC-SHA256). Prints
"ok" and exits 0 when the signatures agree; else prints both and exits 1.
"""
import json
import sys
from unittest import mock

from tencentcloud.common import abstract_client, credential
from tencentcloud.common.http.request import RequestInternal
from tencentcloud.common.profile.client_profile import ClientProfile
from tencentcloud.common.profile.http_profile import HttpProfile
from tencentcloud.sms.v20210111 import sms_client


def main():
    recorded = json.load(sys.stdin)
    headers = recorded["headers"]
    body = recorded["body"]
    http = HttpProfile(endpoint=headers["host"])
    client = sms_client.SmsClient(
        credential.Credential(recorded["secretId"], recorded["secretKey"]),
        recorded["region"],
        ClientProfile(httpProfile=http),
    )
    assert client._apiVersion == headers["x-tc-version"], headers
    request = RequestInternal(headers["host"], "POST", "/")
    fixed_time = int(headers["x-tc-timestamp"])
    with mock.patch.object(abstract_client.time, "time", return_value=fixed_time), \
            mock.patch.object(abstract_client.json, "dumps", return_value=body):
        client._build_req_with_tc3_signature(
            headers["x-tc-action"], json.loads(body), request
        )
    expected = request.header["Authorization"]
    checks = {
        "authorization": (expected, headers["authorization"]),
        "content-type": (request.header["Content-Type"], headers["content-type"]),
        "x-tc-region": (request.header["X-TC-Region"], headers["x-tc-region"]),
    }
    wrong = {k: v for k, v in checks.items() if v[0] != v[1]}
    if wrong:
        for name, (sdk, ours) in wrong.items():
            print(f"{name}: SDK {sdk!r} != sent {ours!r}")
        sys.exit(1)
    print("ok")


if __name__ == "__main__":
    main()
