"""An independent POP3 server that speaks only SCRAM -PLUS (RFC 5802, RFC 9266), for
testing a client: TLS and the tls-exporter value from `openssl s_server
-keymatexport`, the SCRAM arithmetic from Python's hashlib/hmac. Usage:

    scram_plus_server.py PORT CERT KEY USER PASSWORD [cyrus]

Prints `listening` once it accepts connections, serves one session, and exits 0 if
the client logged in with a proof bound to this TLS session (1 otherwise).

With `cyrus` it behaves as Cyrus 3.6 does under TLS 1.3: it offers SCRAM-SHA-256
and SCRAM-SHA-256-PLUS but knows only `tls-unique`, so it refuses every -PLUS
exchange at its first message (`-ERR [AUTH] authenticating: bad protocol /
cancel`); plain SCRAM (gs2 header `n,,`: `y,,` would be a downgrade, since -PLUS
was offered) logs in, and an empty mailbox is served (STAT, UIDL, LIST).
"""
import base64
import hashlib
import hmac
import os
import subprocess
import sys

port, cert, key, user, password = sys.argv[1:6]
cyrus = sys.argv[6:7] == ["cyrus"]
tls = subprocess.Popen(
    ["openssl", "s_server", "-accept", port, "-cert", cert, "-key", key, "-naccept", "1",
     "-keymatexport", "EXPORTER-Channel-Binding", "-keymatexportlen", "32"],
    stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)


def recv():
    line = tls.stdout.readline()
    if not line:
        print("connection closed", flush=True)
        sys.exit(1)
    return line.decode().rstrip("\r\n")


def send(text):
    tls.stdin.write(text.encode() + b"\r\n")
    tls.stdin.flush()


def b64(data):
    return base64.b64encode(data if isinstance(data, bytes) else data.encode()).decode()


binding = None
while binding is None:
    line = recv()
    if line == "ACCEPT":
        print("listening", flush=True)
    if "Keying material:" in line:
        binding = bytes.fromhex(line.split(":", 1)[1].strip())

send("+OK independent SCRAM-PLUS server")
salt = os.urandom(16)
iterations = 4096
logged_in = False
while True:
    line = recv()
    word = line.split(" ")[0].upper()
    if word == "CAPA" and cyrus:
        send("+OK\r\nSASL SCRAM-SHA-256 SCRAM-SHA-256-PLUS\r\nUIDL\r\nUSER\r\n.")
    elif word == "CAPA":
        send("+OK\r\nSASL SCRAM-SHA-1-PLUS SCRAM-SHA-256-PLUS\r\nUSER\r\n.")
    elif word == "AUTH" and cyrus and line.split(" ")[1].upper().endswith("-PLUS"):
        print(f"refused {line.split(' ')[1]}", flush=True)
        send("-ERR [AUTH] authenticating: bad protocol / cancel")
    elif word == "AUTH":
        _, mechanism, initial = line.split(" ")
        hash_name = "sha256" if "SHA-256" in mechanism else "sha1"
        client_first = base64.b64decode(initial).decode()
        gs2 = "n,," if cyrus else "p=tls-exporter,,"
        if not client_first.startswith(gs2):
            print(f"not bound: {client_first}", flush=True)
            send("-ERR [AUTH] channel binding required")
            continue
        first_bare = client_first[len(gs2):]
        attrs = dict(a.split("=", 1) for a in first_bare.split(","))
        nonce = attrs["r"] + b64(os.urandom(18))
        server_first = f"r={nonce},s={b64(salt)},i={iterations}"
        send("+ " + b64(server_first))
        client_final = base64.b64decode(recv()).decode()
        without_proof, proof = client_final.rsplit(",p=", 1)
        final = dict(a.split("=", 1) for a in without_proof.split(","))
        salted = hashlib.pbkdf2_hmac(hash_name, password.encode(), salt, iterations)
        client_key = hmac.new(salted, b"Client Key", hash_name).digest()
        stored_key = hashlib.new(hash_name, client_key).digest()
        auth_message = f"{first_bare},{server_first},{without_proof}".encode()
        signature = hmac.new(stored_key, auth_message, hash_name).digest()
        recovered = bytes(a ^ b for a, b in zip(base64.b64decode(proof), signature))
        if final["c"] != b64(gs2.encode() + (b"" if cyrus else binding)):
            print("channel bindings do not match", flush=True)
            send("-ERR [AUTH] channel bindings do not match")
        elif final["r"] != nonce or attrs["n"] != user:
            print("wrong nonce or user", flush=True)
            send("-ERR [AUTH] bad exchange")
        elif hashlib.new(hash_name, recovered).digest() != stored_key:
            print("bad proof", flush=True)
            send("-ERR [AUTH] bad proof")
        else:
            server_key = hmac.new(salted, b"Server Key", hash_name).digest()
            send("+ " + b64("v=" + b64(hmac.new(server_key, auth_message, hash_name).digest())))
            if recv() != "":
                send("-ERR expected an empty line")
                continue
            logged_in = True
            send("+OK logged in")
    elif word == "STAT" and logged_in:
        send("+OK 0 0")
    elif word in ("UIDL", "LIST") and logged_in:
        send("+OK\r\n.")
    elif word == "QUIT":
        send("+OK bye")
        break
    else:
        send("-ERR unknown command")
tls.stdin.close()
tls.wait(timeout=10)
print("logged in" if logged_in else "not logged in", flush=True)
sys.exit(0 if logged_in else 1)
