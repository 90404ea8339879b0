package wire

import (
	"bytes"
	"fmt"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/vishvananda/netlink"

	"github.com/netlab/netlab/naming"
)

// The Docker engine sets the host's FORWARD policy to DROP and has bridged
// traffic pass through iptables (br_netfilter): frames between two ports of
// a lab bridge would be dropped. netlab accepts them in the host's FORWARD
// chain with one rule per lab: the lab's own bridges share an interface
// group (naming.BridgeGroup), and the rule accepts bridged frames (physdev)
// that arrive on a device of that group. A bridged frame never leaves the
// bridge it arrived on, so the rule lets nothing cross between bridges. An
// external bridge (the host's, joined by the lab) keeps its group and gets
// its own rule, -i and -o that bridge. Every rule has a comment naming the
// lab (and for an external bridge its network) so that down finds it again.
// iptables is used, not nftables, because Docker's chains are iptables' and
// a verdict in another nftables table cannot override their DROP.
//
// One rule per lab rather than per bridge: each iptables call takes the
// host's xtables lock and reads the whole ruleset, so a class of labs
// coming up at once queued behind several calls per bridge.

var firewallTools = []string{"iptables", "ip6tables"}

func ruleSpec(bridge, comment string) []string {
	return []string{"FORWARD", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", comment, "-j", "ACCEPT"}
}

func labRuleSpec(lab string) []string {
	return []string{"FORWARD", "-m", "devgroup", "--src-group", "0x" + strconv.FormatUint(uint64(naming.BridgeGroup(lab)), 16),
		"-m", "physdev", "--physdev-is-bridged", "-m", "comment", "--comment", naming.FirewallComment(lab, ""), "-j", "ACCEPT"}
}

// labRules remembers when this process last found or inserted each lab's
// rule, so that the other bridges of the same up (moments later) do not
// ask iptables again. RemoveHostForward forgets the lab. Held while a
// lab's rule is ensured, so that two bridges never insert it twice.
var labRules = struct {
	sync.Mutex
	seen map[string]time.Time
}{seen: map[string]time.Time{}}

// labRuleFresh is how long a lab's rule, once seen, is taken as present.
const labRuleFresh = 5 * time.Second

// EnsureHostForward lets the bridge's traffic past the host's FORWARD
// chain: a lab bridge joins the lab's interface group and the lab's rule
// is inserted unless present; an external bridge gets its own rule.
func EnsureHostForward(lab, network, bridge string) (changed bool, err error) {
	if !strings.HasPrefix(bridge, naming.BridgePrefix) {
		return ensureRule(ruleSpec(bridge, naming.FirewallComment(lab, network)), "accept forwarding within bridge "+bridge)
	}
	link, err := netlink.LinkByName(bridge)
	if err != nil {
		return false, fmt.Errorf("bridge %s of network %s: %w", bridge, network, err)
	}
	if group := naming.BridgeGroup(lab); link.Attrs().Group != group {
		if err := netlink.LinkSetGroup(link, int(group)); err != nil {
			return false, fmt.Errorf("put bridge %s of network %s in lab %s's interface group: %w", bridge, network, lab, err)
		}
		changed = true
	}
	labRules.Lock()
	defer labRules.Unlock()
	if time.Since(labRules.seen[lab]) < labRuleFresh {
		return changed, nil
	}
	inserted, err := ensureRule(labRuleSpec(lab), "accept forwarding within lab "+lab+"'s bridges")
	if err != nil {
		return changed, err
	}
	labRules.seen[lab] = time.Now()
	return changed || inserted, nil
}

// ensureRule inserts the rule in each firewall tool unless present.
func ensureRule(spec []string, what string) (changed bool, err error) {
	for _, tool := range firewallTools {
		if _, err := exec.LookPath(tool); err != nil {
			continue // no such firewall here: nothing drops the traffic
		}
		if exec.Command(tool, append([]string{"-w", "-C"}, spec...)...).Run() == nil {
			continue
		}
		if out, err := exec.Command(tool, append([]string{"-w", "-I"}, spec...)...).CombinedOutput(); err != nil {
			return changed, fmt.Errorf("%s: %s: %v: %s", tool, what, err, bytes.TrimSpace(out))
		}
		changed = true
	}
	return changed, nil
}

// HostForwardRules lists the lab's rules ("" for every lab) as iptables -S
// prints them, split into arguments, with the tool that holds each.
func HostForwardRules(lab string) (map[string][][]string, error) {
	out := map[string][][]string{}
	prefix := "netlab:"
	if lab != "" {
		prefix = naming.FirewallComment(lab, "")
	}
	for _, tool := range firewallTools {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		list, err := exec.Command(tool, "-w", "-S", "FORWARD").Output()
		if err != nil {
			continue // no FORWARD chain in this family: nothing of ours
		}
		for _, line := range strings.Split(string(list), "\n") {
			args := strings.Fields(line)
			if len(args) < 2 || args[0] != "-A" || args[1] != "FORWARD" {
				continue
			}
			for i := range args {
				args[i] = strings.Trim(args[i], `"`) // our comments have no spaces
			}
			for i := 0; i+1 < len(args); i++ {
				if args[i] == "--comment" && strings.HasPrefix(args[i+1], prefix) {
					out[tool] = append(out[tool], args[1:])
					break
				}
			}
		}
	}
	return out, nil
}

// RemoveHostForward deletes the lab's accept rules and says how many.
func RemoveHostForward(lab string) (removed int, err error) {
	labRules.Lock()
	delete(labRules.seen, lab)
	labRules.Unlock()
	rules, err := HostForwardRules(lab)
	if err != nil {
		return 0, err
	}
	for tool, list := range rules {
		for _, args := range list {
			if out, err := exec.Command(tool, append([]string{"-w", "-D"}, args...)...).CombinedOutput(); err != nil {
				return removed, fmt.Errorf("%s: remove rule %s: %v: %s", tool, strings.Join(args, " "), err, bytes.TrimSpace(out))
			}
			removed++
		}
	}
	return removed, nil
}

// RemoveHostForwardRule deletes the host firewall rules with the comment.
func RemoveHostForwardRule(comment string) error {
	for _, tool := range firewallTools {
		if _, err := exec.LookPath(tool); err != nil {
			continue
		}
		list, err := exec.Command(tool, "-w", "-S", "FORWARD").Output()
		if err != nil {
			continue
		}
		for _, line := range strings.Split(string(list), "\n") {
			args := strings.Fields(line)
			if len(args) < 2 || args[0] != "-A" {
				continue
			}
			for i := range args {
				args[i] = strings.Trim(args[i], `"`)
			}
			for i := 0; i+1 < len(args); i++ {
				if args[i] == "--comment" && args[i+1] == comment {
					if out, err := exec.Command(tool, append([]string{"-w", "-D"}, args[1:]...)...).CombinedOutput(); err != nil {
						return fmt.Errorf("%s: remove rule %s: %v: %s", tool, comment, err, bytes.TrimSpace(out))
					}
					break
				}
			}
		}
	}
	return nil
}
