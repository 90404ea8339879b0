#!/bin/sh
# Runs inside the playground root (chroot) after the overlay is copied in.
# Needs, in /tmp/fopnp-build: ca.crt, and for www and mail their .crt/.key,
# and root's shared key pair id_ed25519{,.pub}.
set -eu
b=/tmp/fopnp-build

# Users: root and brandon, password abc123.
id brandon >/dev/null 2>&1 || useradd -m -s /bin/bash brandon
usermod -a -G mail brandon
echo 'root:abc123' | chpasswd
echo 'brandon:abc123' | chpasswd

# One key for root everywhere: root can ssh between any two nodes.
install -d -m 700 /root/.ssh
install -m 600 $b/id_ed25519 /root/.ssh/id_ed25519
install -m 644 $b/id_ed25519.pub /root/.ssh/id_ed25519.pub
install -m 600 $b/id_ed25519.pub /root/.ssh/authorized_keys
ssh-keygen -A >/dev/null

# The playground CA, the one authority every node trusts (the playground
# has no Internet: Debian's ca-certificates and its public authorities are
# not installed, nor its script, whose run here cost 4 CPU-s of 2 cores at
# set-up), laid out as update-ca-certificates lays it out: the bundle that
# curl, OpenSSL and Python read, and a link by subject hash for OpenSSL's
# directory lookup. Certificates for the servers.
install -D -m 644 $b/ca.crt /usr/local/share/ca-certificates/fopnp-ca.crt
ln -sf /usr/local/share/ca-certificates/fopnp-ca.crt /etc/ssl/certs/fopnp-ca.pem
ln -sf fopnp-ca.pem "/etc/ssl/certs/$(openssl x509 -hash -noout -in $b/ca.crt).0"
cat $b/ca.crt >/etc/ssl/certs/ca-certificates.crt
install -d -m 755 /etc/fopnp/tls
for s in www mail; do
  install -m 644 $b/$s.crt /etc/fopnp/tls/$s.crt
  install -m 600 $b/$s.key /etc/fopnp/tls/$s.key
done
chown dovecot /etc/fopnp/tls/mail.key 2>/dev/null || true

# Postfix: mail for example.com is delivered to local users, no chroot, log to a file.
postconf -e 'myhostname = mail.example.com' 'mydomain = example.com' \
  'mydestination = example.com, mail.example.com, localhost' 'inet_interfaces = all' \
  'inet_protocols = ipv4' 'mynetworks = 127.0.0.0/8 10.0.0.0/8 192.168.0.0/16' \
  'maillog_file = /var/log/postfix.log' 'smtputf8_enable = no'
postconf -F '*/*/chroot = n'
echo mail.example.com > /etc/mailname

# brandon's mailbox: three messages to read.
install -m 660 -o brandon -g mail /tmp/fopnp-build/brandon.mbox /var/mail/brandon

# FTP: brandon can upload to his home.
install -d -o brandon -g brandon /home/brandon/uploads

# Debian starts no services in a chroot; the node's start script does.
rm -f /usr/sbin/policy-rc.d
apt-get clean
rm -rf /var/lib/apt/lists/* /tmp/fopnp-build
