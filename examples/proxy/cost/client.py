# Sends N sequential keep-alive GETs through a forward proxy (for cost.sh): PORT UPSTREAM N.
import sys, http.client
port, up, n = int(sys.argv[1]), sys.argv[2], int(sys.argv[3])
c = http.client.HTTPConnection("127.0.0.1", port)
bad = 0
for i in range(n):
    c.request("GET", f"http://{up}/x", headers={"Host": up, "x-vpce": "vpce-0api0000000000001"})
    r = c.getresponse(); r.read()
    bad += r.status != 200
print("requests", n, "not 200:", bad)
