import os, struct
root = 'seeds'
def rest(bs):  # Vec<u8> via arbitrary_take_rest (arbitrary 1.5): a continue byte before each element
    return b''.join(b'\x01' + bytes([x]) for x in bs)
def variant(i, n=16):  # enum tag: (u32 * n) >> 32 == i
    return struct.pack('<I', (i << 32) // n + 1)
os.makedirs(f'{root}/codec_roundtrip', exist_ok=True)
cmds = [b'USER alice', b'PASS s3cret pass', b'APOP mrose c4c9334bac560ecc979e58001b3e22fb', b'AUTH PLAIN AGFsaWNlAHMzY3JldCBwYXNz',
        b'AUTH CRAM-MD5', b'AUTH SCRAM-SHA-256 biwsbj11c2VyLHI9ck9wck5HZndFYmVSV2diTkVrcU8=', b'AUTH', b'STAT', b'LIST', b'LIST 2', b'UIDL 1', b'RETR 1', b'TOP 1 10',
        b'DELE 3', b'NOOP', b'RSET', b'QUIT', b'CAPA', b'STLS', b'UTF8', b'LANG', b'LANG fr', b'list  1', b'TOP 1']
status = [b'+OK Dovecot ready.', b'+OK Dovecot ready. <1896.697170952@dbc.mtview.ca.us>', b'-ERR [AUTH] Authentication failed.',
          b'-ERR [IN-USE] Mailbox locked', b'-ERR [SYS/TEMP] try later', b'-ERR [LOGIN-DELAY] wait', b'+OK [UTF8] ok',
          b'-ERR [X-OTHER/thing] x', b'+OK 2 320', b'+OK Logged in.', b'+OK', b'-ERR']
caps = [b'TOP', b'UIDL', b'RESP-CODES', b'PIPELINING', b'AUTH-RESP-CODE', b'USER', b'SASL PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256',
        b'STLS', b'EXPIRE 31 USER', b'LOGIN-DELAY 900', b'IMPLEMENTATION Dovecot', b'UTF8 USER', b'LANG', b'X-UNKNOWN a b']
sasl = [b'*', b'', b'YWxpY2U=', b'czNjcmV0IHBhc3M=', b'AGFsaWNlAHMzY3JldCBwYXNz', b'=', b'YWxpY2UgMGJkY2ExNjk0NjEzMjJlNjljYjEzY2E0OTg5NTRmY2Y=']
def put(name, data):
    open(f'{root}/codec_roundtrip/{name}', 'wb').write(data)
for i, c in enumerate(cmds): put(f'command-{i:02}', variant(13) + rest(c))
for i, s in enumerate(status): put(f'status-{i:02}', variant(14) + rest(s))
for i, c in enumerate(caps): put(f'capa-{i:02}', variant(15) + rest(c))
for i, s in enumerate(sasl): put(f'sasl-{i:02}', variant(12) + rest(s))
for i in range(7): put(f'simple-{i}', variant(10) + bytes([i]))
put('retr', variant(7) + struct.pack('<I', 1))
put('top', variant(9) + struct.pack('<II', 1, 10))

os.makedirs(f'{root}/sasl', exist_ok=True)
MECH = ['PLAIN', 'LOGIN', 'CRAM-MD5', 'SCRAM-SHA-1', 'SCRAM-SHA-256', 'XOAUTH2', 'OAUTHBEARER', 'EXTERNAL']
def sasl_seed(name, mech, ir, a, c_lines, sha256=False):
    which = (MECH.index(mech) << 1) | (0x80 if ir is not None else 0) | (1 if sha256 else 0)
    b = ir or b''
    c = b'\n'.join(l + b'\r' for l in c_lines)
    # Vec<u8>::arbitrary (arbitrary 1.5) is interleaved too, ended by an even byte.
    data = bytes([which]) + rest(a) + b'\x00' + rest(b) + b'\x00' + rest(c)
    open(f'{root}/sasl/{name}', 'wb').write(data)
SF = b'r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,s=QSXCR+Q6sek8bf92,i=4096'
CF = b'n,,n=user,r=fyko+d2lbbFgONRv9qkxdawL'
import base64
b64 = base64.b64encode
sasl_seed('plain-ir', 'PLAIN', b'AGFsaWNlAHMzY3JldCBwYXNz', SF, [])
sasl_seed('plain', 'PLAIN', None, SF, [b'AGFsaWNlAHMzY3JldCBwYXNz'])
sasl_seed('login', 'LOGIN', None, CF, [b'YWxpY2U=', b'czNjcmV0IHBhc3M='])
sasl_seed('login-cancel', 'LOGIN', None, CF, [b'YWxpY2U=', b'*'])
sasl_seed('cram-md5', 'CRAM-MD5', None, SF, [b'YWxpY2UgMGJkY2ExNjk0NjEzMjJlNjljYjEzY2E0OTg5NTRmY2Y='])
sasl_seed('scram-sha-1', 'SCRAM-SHA-1', b64(CF), SF, [b64(b'c=biws,r=fyko+d2lbbFgONRv9qkxdawL3rfcNHYJY1ZVvWVs7j,p=v0X8v3Bz2T0CJGbJQyF0X+HI4Ts='), b''])
sasl_seed('scram-sha-256', 'SCRAM-SHA-256', None, b'r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,s=W22ZaJ0SNY7soEsUEjb6gQ==,i=4096',
          [b64(b'n,,n=user,r=rOprNGfwEbeRWgbNEkqO'), b64(b'c=biws,r=rOprNGfwEbeRWgbNEkqO%hvYDpWUa2RaTCAfuxFIlj)hNlF$k0,p=dHzbZapWIk4jUhN+Ute9ytag9zjfMHgsqmmiz7AndVQ='), b''], sha256=True)
sasl_seed('xoauth2', 'XOAUTH2', b64(b'user=alice\x01auth=Bearer ya29.token\x01\x01'), b'v=rmF9pqV8S7suAoZWja4dJRkFsKQ=', [])
sasl_seed('oauthbearer', 'OAUTHBEARER', b64(b'n,a=alice,\x01host=pop.example.org\x01port=110\x01auth=Bearer ya29.token\x01\x01'), SF, [])
sasl_seed('oauthbearer-fail', 'OAUTHBEARER', None, SF, [b64(b'n,,\x01auth=Bearer bad\x01\x01'), b64(b'\x01')])
sasl_seed('external', 'EXTERNAL', b'=', SF, [])

# client_server: the struct Input of the target, field by field.
os.makedirs(f'{root}/client_server', exist_ok=True)
def vec(items):  # Vec<T>::arbitrary: a continue byte before each element, an even byte after
    return b''.join(b'\x01' + i for i in items) + b'\x00'
def opt(v):
    return b'\x00' if v is None else b'\x01' + bytes([v])
OPS = ['Stat', 'List', 'Uidl', 'Retr', 'Top', 'Dele', 'Rset', 'Noop', 'Quit']
def op(name, *args):
    t = variant(OPS.index(name), 9)
    if name in ('List', 'Uidl'):
        return t + opt(args[0] if args else None)
    return t + bytes(args)
# The mailbox of the Dovecot interop test's shapes: dots, bare LF, no final line end, empty.
MAILBOX = [b'Subject: one\n\nfirst line\n.dot line\n..two dots\n.\nlast\n',
           b'Subject: two\r\nFrom: b@example.org\r\n\r\nbody\r\n',
           b'Subject: three\n\nno final newline',
           b'',
           b'\r\n.\r\n\n\rbare CR\r']
SESSION = [op('Stat'), op('List'), op('Uidl'), op('List', 2), op('Uidl', 9), op('Retr', 1), op('Top', 1, 1),
           op('Retr', 3), op('Retr', 4), op('Retr', 5), op('Dele', 1), op('Retr', 1), op('Stat'), op('Rset'),
           op('Dele', 2), op('Dele', 2), op('Noop'), op('List'), op('Quit')]
def cs_seed(name, login, pipelined, ops, pieces):
    data = vec([vec([bytes([x]) for x in m]) for m in MAILBOX]) + bytes([login, 1 if pipelined else 0]) + vec(ops) + bytes(pieces)
    open(f'{root}/client_server/{name}', 'wb').write(data)
LOGIN_NAMES = ['user', 'apop', 'plain', 'login', 'cram-md5', 'scram-sha-1', 'scram-sha-256', 'xoauth2', 'oauthbearer']
for i, n in enumerate(LOGIN_NAMES):
    cs_seed(f'{n}-lockstep', i, False, SESSION, [255, 255, 64, 0, 0, 0, 0])
    cs_seed(f'{n}-pipelined-small', i | 0x80, True, SESSION, [3, 7, 5, 1, 0, 0, 0])
cs_seed('no-quit', 0, True, SESSION[:-1], [1, 1, 1, 255, 255, 255, 255])
# Stored secrets (bit 0x40): a CRAM-MD5 context, SCRAM verifiers.
for i, n in ((4, 'cram-md5'), (5, 'scram-sha-1'), (6, 'scram-sha-256')):
    cs_seed(f'{n}-stored', i | 0x40, False, SESSION, [255, 255, 64, 0, 0, 0, 0])

# chunk_split: (reply shapes, bare-LF policy, server bytes).
os.makedirs(f'{root}/chunk_split', exist_ok=True)
S, L, B, A = 0, 1, 2, 3  # Status, Listing, Body, Sasl
def chunk_seed(name, shapes, policy, wire):
    data = vec([bytes([x]) for x in shapes]) + bytes([policy]) + rest(wire)
    open(f'{root}/chunk_split/{name}', 'wb').write(data)
SESSION_WIRE = (b'+OK Dovecot ready.\r\n+OK\r\nTOP\r\nUIDL\r\nRESP-CODES\r\nPIPELINING\r\nSASL PLAIN LOGIN\r\n.\r\n'
                b'+OK Logged in.\r\n+OK 2 320\r\n+OK 2 messages:\r\n1 120\r\n2 200\r\n.\r\n'
                b'+OK\r\n1 000000015a4f7b0e\r\n2 000000025a4f7b0e\r\n.\r\n'
                b'+OK 120 octets\r\nSubject: one\r\n\r\n..dot line\r\nlast\r\n.\r\n-ERR [IN-USE] no\r\n+OK Logging out.\r\n')
for p in range(3):
    chunk_seed(f'dovecot-session-{p}', [S, L, S, S, L, L, B, B, S], p, SESSION_WIRE)
chunk_seed('sasl', [S, A, A, A, S], 2, b'+OK ready\r\n+ \r\n+ VXNlcm5hbWU6\r\n+ UGFzc3dvcmQ6\r\n-ERR [AUTH] Authentication failed.\r\n')
chunk_seed('bare-lf-body', [B, B], 2, b'+OK\nline\n.dot\n..\n.\n+OK\r\nbare\nlf\r\n.\r\n')
chunk_seed('long-line', [S, L], 0, b'+OK ' + b'x' * 600 + b'\r\n+OK\r\n' + b'y' * 600 + b'\r\n.\r\n')

# structured: enum Input (7 variants), each variant's fields in order; the last one
# read by arbitrary_take_rest.
os.makedirs(f'{root}/structured', exist_ok=True)
def st_seed(name, data):
    open(f'{root}/structured/{name}', 'wb').write(data)
def bvec(bs):  # Vec<u8> not last: a continue byte before each element, an even byte after
    return vec([bytes([x]) for x in bs])
u16 = lambda x: struct.pack('<H', x)
u32 = lambda x: struct.pack('<I', x)
u64 = lambda x: struct.pack('<Q', x)
# Code { which, levels, lower, raw, ok, text }: 0-5 known (IN-USE, LOGIN-DELAY,
# SYS/TEMP, SYS/PERM, AUTH, UTF8), 6-11 unknown or near misses.
for which, levels, lower, ok, text in [
        (0, [], 0, 0, b'Mailbox locked'), (1, [], 0, 0, b'wait 15 minutes'), (2, [], 0, 0, b'try later'),
        (3, [], 0, 0, b'broken'), (4, [], 0, 0, b'Authentication failed.'), (5, [], 0, 1, b'ok'),
        (2, [b'DB'], 1, 0, b'deeper level'), (4, [b'X', b'Y'], 0, 0, b''), (6, [b'THING'], 0, 0, b'x'),
        (7, [], 0, 0, b'SYS alone'), (8, [b'Z'], 1, 0, b''), (9, [], 0, 1, b'near miss')]:
    st_seed(f'code-{which}-{len(levels)}-{lower}', variant(0, 7) + bytes([which]) + vec([bvec(l) for l in levels])
            + bytes([lower, 0, ok]) + rest(text))
# Capa(Vec<Cap>): Cap { kind, n, flag, tag, params }.
def cap(kind, n=0, flag=0, tag=b'', params=b''):
    return bytes([kind]) + u32(n) + bytes([flag]) + bvec(tag) + bvec(params)
DOVECOT_CAPA = [cap(0), cap(7), cap(3), cap(5), cap(12), cap(1), cap(2, params=b'PLAIN LOGIN CRAM-MD5 SCRAM-SHA-256'),
                cap(9), cap(10, flag=1), cap(11)]
st_seed('capa-dovecot', variant(1, 7) + b''.join(b'\x01' + c for c in DOVECOT_CAPA))
st_seed('capa-rfc2449', variant(1, 7) + b''.join(b'\x01' + c for c in [
    cap(0), cap(1), cap(2, params=b'KERBEROS_V4 GSSAPI SKEY'), cap(3), cap(4, 900), cap(4, 0, 1), cap(5),
    cap(6, 31, 1), cap(6, 0), cap(7), cap(8, params=b'Shlemazle-Plotz-v302'), cap(13, tag=b'X-EXP', params=b'a b'),
    cap(13, tag=b'top'), cap(13, tag=b'LOGIN-DELAY', params=b'x')]))
# Scram { sha256, bind, authzid, user, password, client_nonce, server_nonce, salt, iterations }
for name, sha, bind, authzid, user in [('scram-sha-1', 0, 0, b'', b'user'), ('scram-sha-256', 1, 0, b'', b'user'),
                                       ('scram-authzid-escaped', 1, 1, b'ad=min', b'us,er'), ('scram-plus', 1, 2, b'', b'user')]:
    st_seed(name, variant(2, 7) + bytes([sha, bind]) + bvec(authzid) + bvec(user) + bvec(b'pencil')
            + bvec(b'fyko+d2lbbFgONRv9qkxdawL') + bvec(b'3rfcNHYJY1ZVvWVs7j') + bvec(b'QSXCR+Q6sek8bf92') + bytes([3]))
# Login { mechanism, authzid, user, secret }: PLAIN, LOGIN, CRAM-MD5, SCRAM-SHA-1,
# SCRAM-SHA-256, XOAUTH2, OAUTHBEARER, EXTERNAL.
for m, name in enumerate(['plain', 'login', 'cram-md5', 'scram-sha-1', 'scram-sha-256', 'xoauth2', 'oauthbearer', 'external']):
    authzid = b'admin' if name in ('plain', 'external', 'scram-sha-256') else b''
    st_seed(f'login-{name}', variant(3, 7) + bytes([m]) + bvec(authzid) + bvec(b'alice') + rest(b's3cret pass'))
# Body { policy, piece, room, read, raw }
BODY = b'Subject: dots\r\n\r\n.leading dot\r\n..two\r\n.\r\nbare\nlf\nand a lone \r cr\r\n' + b'long line ' * 40 + b'\r\n.'
for policy in range(3):
    st_seed(f'body-{policy}', variant(4, 7) + bytes([policy]) + u16(7) + u16(64) + u16(13) + rest(BODY))
st_seed('body-blocks', variant(4, 7) + bytes([0]) + u16(4096) + u16(511) + u16(4096) + rest(b'x' * 70 + b'\n.\n' * 5 + b'y' * 300))
# Marks { count, ops }, Time { a, b, secs, nanos }
st_seed('marks', variant(5, 7) + u16(70) + b''.join(b'\x01' + u16(m) + bytes([b]) for m, b in [(1, 1), (64, 1), (65, 1), (70, 1), (0, 1), (1, 0), (300, 1)]))
st_seed('time', variant(6, 7) + u64(1000) + u64(250) + u64(3) + u32(999_999_999))
st_seed('time-saturating', variant(6, 7) + u64(2**64 - 2) + u64(2**64 - 1) + u64(2**64 - 1) + u32(0))
