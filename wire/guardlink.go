package wire

import (
	"github.com/google/nftables/binaryutil"
	"github.com/google/nftables/expr"
	"golang.org/x/sys/unix"
)

// A host link (links: [host:IFNAME, node:if], with host_address) is host
// access a person consented to: "a link to the machine itself, interface
// IFNAME with host address A" (package trust). The guard holds it to that
// (the regular chains hostlinks_input and hostlinks_forward, a lab's rules
// tagged with its name):
//
//	input:   from IFNAME, to an address that is not IFNAME's own (nor a
//	         broadcast or multicast one) drop
//	forward: from IFNAME, or to it, drop
//
// so the node reaches the host at the link's own addresses (any port on
// them: the host end of the link is what was allowed), but not the
// host's other addresses, which the host would otherwise answer on any
// interface (its services bound to them, the class server's port on the
// machine's address), and the host routes nothing from the link to the
// real network, Docker's networks or other host links, nor back. A lab
// that needs the network beyond the host uses what consents to that: an
// external bridge or a macvlan ("nodes join the host's real networks").

// Chains of the host links' rules.
const (
	hostLinksInput   = "hostlinks_input"
	hostLinksForward = "hostlinks_forward"
)

// hostLinkRules hold a host link's host end to its own addresses. Pure.
func hostLinkRules(ifname string) (input, forward [][]expr.Any) {
	drop := []expr.Any{&expr.Verdict{Kind: expr.VerdictDrop}}
	not := func(addrType uint32) expr.Any {
		return &expr.Cmp{Op: expr.CmpOpNeq, Register: 1, Data: binaryutil.NativeEndian.PutUint32(addrType)}
	}
	// fib daddr . iif type != { local, broadcast, multicast }: the type of
	// the destination address as the incoming interface has it.
	notOwn := []expr.Any{&expr.Fib{Register: 1, FlagDADDR: true, FlagIIF: true, ResultADDRTYPE: true},
		not(unix.RTN_LOCAL), not(unix.RTN_BROADCAST), not(unix.RTN_MULTICAST)}
	input = [][]expr.Any{join(matchIfname(expr.MetaKeyIIFNAME, ifname), notOwn, drop)}
	forward = [][]expr.Any{
		join(matchIfname(expr.MetaKeyIIFNAME, ifname), drop),
		join(matchIfname(expr.MetaKeyOIFNAME, ifname), drop),
	}
	return input, forward
}

// EnsureGuardHostLink holds the lab's host link ifname to its own
// addresses, unless the rules are there.
func EnsureGuardHostLink(lab, ifname string) (changed bool, err error) {
	input, forward := hostLinkRules(ifname)
	in, err := ensureLabRules(lab, hostLinksInput, "host link "+ifname, input)
	if err != nil {
		return in, err
	}
	fwd, err := ensureLabRules(lab, hostLinksForward, "host link "+ifname, forward)
	return in || fwd, err
}

// RemoveGuardHostLink deletes the guard's rules of the lab's host link
// ifname, when the link goes while the lab stays (a lab file changed, up
// again); down removes all of a lab's rules with RemoveGuard. It returns
// how many rules it removed.
func RemoveGuardHostLink(lab, ifname string) (int, error) {
	return removeLabRules(lab, "host link "+ifname, hostLinksInput, hostLinksForward)
}
