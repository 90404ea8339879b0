package wire

import (
	"bytes"
	"fmt"
	"os/exec"
	"strings"

	"github.com/netlab/netlab/naming"
)

// The Docker engine sets the host's FORWARD policy to DROP and has bridged
// traffic pass through iptables (br_netfilter): frames between two ports of
// a lab bridge would be dropped. netlab accepts, in the host's FORWARD chain,
// traffic that enters and leaves the same lab bridge, with a comment naming
// lab and network so that down finds the rule again. iptables is used, not
// nftables, because Docker's chains are iptables' and a verdict in another
// nftables table cannot override their DROP.

var firewallTools = []string{"iptables", "ip6tables"}

func ruleSpec(bridge, comment string) []string {
	return []string{"FORWARD", "-i", bridge, "-o", bridge, "-m", "comment", "--comment", comment, "-j", "ACCEPT"}
}

// EnsureHostForward inserts the accept rule for a bridge unless present.
func EnsureHostForward(lab, network, bridge string) (changed bool, err error) {
	spec := ruleSpec(bridge, naming.FirewallComment(lab, network))
	for _, tool := range firewallTools {
		if _, err := exec.LookPath(tool); err != nil {
			continue // no such firewall here: nothing drops the traffic
		}
		if exec.Command(tool, append([]string{"-w", "-C"}, spec...)...).Run() == nil {
			continue
		}
		if out, err := exec.Command(tool, append([]string{"-w", "-I"}, spec...)...).CombinedOutput(); err != nil {
			return changed, fmt.Errorf("%s: accept forwarding within bridge %s: %v: %s", tool, bridge, err, bytes.TrimSpace(out))
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

// RemoveHostForward deletes the lab's accept rules.
func RemoveHostForward(lab string) error {
	rules, err := HostForwardRules(lab)
	if err != nil {
		return err
	}
	for tool, list := range rules {
		for _, args := range list {
			if out, err := exec.Command(tool, append([]string{"-w", "-D"}, args...)...).CombinedOutput(); err != nil {
				return fmt.Errorf("%s: remove rule %s: %v: %s", tool, strings.Join(args, " "), err, bytes.TrimSpace(out))
			}
		}
	}
	return nil
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
