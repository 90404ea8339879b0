#!/bin/sh
# Runs inside the netlab image root (chroot) after the overlay is copied in.
set -eu
echo 'root:netlab' | chpasswd
# FRR: vtysh reads one integrated frr.conf; daemons are chosen per node
# (netlab writes /etc/frr/daemons from the lab file).
printf 'service integrated-vtysh-config\n' >/etc/frr/vtysh.conf
chown frr:frr /etc/frr/vtysh.conf
# Prompts say which node a student is on.
echo 'PS1="\h:\w# "' >>/root/.bashrc
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin /tmp/*
