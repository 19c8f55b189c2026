#!/bin/sh
# Makes a private CA, a server certificate and client certificates with openssl, for trying TLS
# and mutual TLS with switchyard-broker (the tests and `pnpm bench --tls` use it too).
#
#   scripts/make-certificates.sh DIR [CLIENT_NAME ...]
#
# writes into DIR (created if missing):
#   ca.pem, ca-key.pem                the CA (give ca.pem to clients as tls.ca, to the broker as --tls-ca)
#   server.pem, server-key.pem        the broker's certificate, for the names in SERVER_SAN
#   client-NAME.pem, client-NAME-key.pem   one per CLIENT_NAME, subject CN=NAME (for --tls-client-auth and ACL certSubject)
#
# Environment: SERVER_SAN (default "DNS:localhost,IP:127.0.0.1,IP:::1"), DAYS (default 365).
# Keys are ECDSA P-256, unencrypted: keep DIR private. An existing CA in DIR is reused, so running
# it again adds or renews certificates signed by the same CA (that is how to rotate them).
set -eu

if [ $# -lt 1 ]; then
  echo "usage: $0 DIR [CLIENT_NAME ...]" >&2
  exit 2
fi
if ! command -v openssl >/dev/null 2>&1; then
  if [ "$(id -u)" = 0 ] && command -v apt-get >/dev/null 2>&1; then
    apt-get install -y -qq openssl >/dev/null 2>&1 || { apt-get update -qq >/dev/null && apt-get install -y -qq openssl >/dev/null; }
  else
    echo "$0: openssl is needed: install it (Debian/Ubuntu: apt-get install openssl)" >&2
    exit 1
  fi
fi

dir=$1
shift
days=${DAYS:-365}
san=${SERVER_SAN:-DNS:localhost,IP:127.0.0.1,IP:::1}
mkdir -p "$dir"
umask 077

# sign NAME SUBJECT EXTENSIONS: a key and a certificate signed by the CA
sign() {
  openssl req -new -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/$1-key.pem" \
    -subj "$2" -out "$dir/$1.csr" 2>/dev/null
  printf '%s\n' "$3" >"$dir/$1.ext"
  openssl x509 -req -in "$dir/$1.csr" -CA "$dir/ca.pem" -CAkey "$dir/ca-key.pem" -CAcreateserial \
    -days "$days" -sha256 -extfile "$dir/$1.ext" -out "$dir/$1.pem" 2>/dev/null
  rm -f "$dir/$1.csr" "$dir/$1.ext"
}

if [ ! -f "$dir/ca.pem" ] || [ ! -f "$dir/ca-key.pem" ]; then
  openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:P-256 -nodes -keyout "$dir/ca-key.pem" \
    -subj "/CN=Switchyard test CA" -days "$days" -sha256 \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign" \
    -out "$dir/ca.pem" 2>/dev/null
fi
sign server "/CN=switchyard-broker" "subjectAltName=$san
extendedKeyUsage=serverAuth"
for name in "$@"; do
  sign "client-$name" "/CN=$name" "subjectAltName=DNS:$name
extendedKeyUsage=clientAuth"
done
chmod 644 "$dir"/*.pem
chmod 600 "$dir"/*-key.pem
