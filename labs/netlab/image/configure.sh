#!/bin/sh
# Runs inside the netlab image root (chroot) after the overlay is copied in.
set -eu
echo 'root:netlab' | chpasswd
# FRR: no frr.conf of the package's own. A node's configuration is then
# FRR's integrated frr.conf when there is one (netlab writes it from the
# lab file's routing: key; a Kathara lab's node folder may bring it),
# else each daemon's own file, /etc/frr/zebra.conf, ospfd.conf, ..., as
# Kathara's images load them (the package's frr.conf made every daemon
# skip its own). Daemons are chosen per node (/etc/frr/daemons).
rm -f /etc/frr/frr.conf
printf 'service integrated-vtysh-config\n' >/etc/frr/vtysh.conf
chown frr:frr /etc/frr/vtysh.conf
# Kathara's images name BIND's init script bind (Debian 12 calls it named;
# older Debian, bind9): systemctl start bind9, service bind start, ...
ln -sf named /etc/init.d/bind
ln -sf named /etc/init.d/bind9
# BIND 9.18 refuses options that labs written for Kathara's kathara/bind:9.11
# set (dnssec-enable, filter-aaaa-on-v4, ...): named's init script drops the
# lines named-checkconf reports from the node's /etc/bind first
# (/usr/local/lib/netlab/named-compat).
mv /etc/init.d/named /etc/init.d/named.debian
ln -s /usr/local/lib/netlab/named-compat /etc/init.d/named
# Quagga's and Zebra's per-daemon init scripts (Netkit- and Quagga-era
# labs: /etc/init.d/zebra start, /etc/init.d/ospfd start) start FRR's.
for d in zebra bgpd ospfd ospf6d ripd ripngd isisd; do
  ln -sf quagga "/etc/init.d/$d"
done
# FRR's init script applies frr.conf again once every daemon is up
# (/usr/local/lib/netlab/frr-settle): a daemon slow to start on a busy
# machine would otherwise run without its configuration.
mv /etc/init.d/frr /etc/init.d/frr.debian
ln -s /usr/local/lib/netlab/frr-init /etc/init.d/frr
# Prompts say which node a student is on.
echo 'PS1="\h:\w# "' >>/root/.bashrc
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/*
