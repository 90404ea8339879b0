package lab

import (
	"github.com/netlab/netlab/trust"
)

// Trust records a person's consent to what the lab of target asks of the
// host, by the hash of its content (netlab trust FILE): up then brings it
// up without --allow-host until any of its files changes. It returns the
// requests consented to and the digest they are recorded under.
func Trust(target string) ([]trust.Request, string, error) {
	if err := NeedRoot("trust"); err != nil {
		return nil, "", err
	}
	l, _, err := Load(target)
	if err != nil {
		return nil, "", err
	}
	reqs := trust.Requests(l)
	if len(reqs) == 0 {
		return nil, "", nil // nothing to consent to
	}
	digest, err := trust.Record(l, l.Data, "")
	return reqs, digest, err
}
