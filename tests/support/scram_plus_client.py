"""An independent SCRAM -PLUS client (RFC 5802, RFC 9266) for testing a server:
TLS and the tls-exporter value from `openssl s_client -keymatexport`, the SCRAM
arithmetic from Python's hashlib/hmac. Usage:

    scram_plus_client.py HOST PORT USER PASSWORD MECHANISM [tamper]

Prints the server's final reply to the AUTH exchange (one line) and exits 0, or
prints what went wrong and exits 1. With `tamper`, the binding data is altered
(a relay on another TLS session): the server must refuse.
"""
import base64
import hashlib
import hmac
import os
import subprocess
import sys

host, port, user, password, mechanism = sys.argv[1:6]
tamper = len(sys.argv) > 6 and sys.argv[6] == "tamper"
hash_name = "sha256" if "SHA-256" in mechanism else "sha1"

tls = subprocess.Popen(
    ["openssl", "s_client", "-connect", f"{host}:{port}", "-ign_eof",
     "-keymatexport", "EXPORTER-Channel-Binding", "-keymatexportlen", "32"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def recv():
    line = tls.stdout.readline()
    if not line:
        print("connection closed")
        sys.exit(1)
    return line.decode().rstrip("\r\n")


def send(text):
    tls.stdin.write(text.encode() + b"\r\n")
    tls.stdin.flush()


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


binding = None
while True:
    line = recv()
    if "Keying material:" in line:
        binding = bytes.fromhex(line.split(":", 1)[1].strip())
    if line.startswith("+OK"):
        break
if binding is None or len(binding) != 32:
    print("no tls-exporter value from openssl")
    sys.exit(1)
if tamper:
    binding = bytes(b ^ 1 for b in binding)

gs2 = "p=tls-exporter,,"
nonce = b64(os.urandom(18))
first_bare = f"n={user},r={nonce}"
send(f"AUTH {mechanism} {b64(gs2 + first_bare)}")
line = recv()
if not line.startswith("+ "):
    print(line)
    sys.exit(0 if line.startswith("-ERR") else 1)
server_first = base64.b64decode(line[2:]).decode()
attrs = dict(a.split("=", 1) for a in server_first.split(","))
if not attrs["r"].startswith(nonce):
    print("server nonce does not extend ours")
    sys.exit(1)
salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), base64.b64decode(attrs["s"]), int(attrs["i"]))
client_key = hmac.new(salted, b"Client Key", hash_name).digest()
stored_key = hashlib.new(hash_name, client_key).digest()
without_proof = f"c={b64(gs2.encode() + binding)},r={attrs['r']}"
auth_message = f"{first_bare},{server_first},{without_proof}".encode()
signature = hmac.new(stored_key, auth_message, hash_name).digest()
proof = bytes(a ^ b for a, b in zip(client_key, signature))
send(b64(f"{without_proof},p={b64(proof)}"))
line = recv()
if line.startswith("+ "):
    server_final = base64.b64decode(line[2:]).decode()
    server_key = hmac.new(salted, b"Server Key", hash_name).digest()
    expected = "v=" + b64(hmac.new(server_key, auth_message, hash_name).digest())
    if server_final != expected:
        print(f"server signature wrong: {server_final}")
        sys.exit(1)
    send("")
    line = recv()
print(line)
send("QUIT")
recv()
tls.stdin.close()
tls.wait(timeout=10)
