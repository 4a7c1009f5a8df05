package policy

import "tresor"

// PermitListening is Permit for social listening: the purpose must be one
// the policy lets listen (listens: true). Listening yields aggregates only,
// so purposes restricted to aggregates are allowed.
func (p *Policy) PermitListening(a *tresor.Actor, purpose string) (*Purpose, error) {
	pu, err := p.Permit(a, purpose)
	if err != nil {
		return nil, err
	}
	if !pu.Listens {
		return nil, Refuse(RListening, purpose, listOrNone(p.ListeningPurposes()))
	}
	return pu, nil
}

// ListeningPurposes lists the purposes that may listen, in catalogue order.
func (p *Policy) ListeningPurposes() []string {
	var out []string
	for _, pu := range p.Purposes {
		if pu.Listens {
			out = append(out, pu.ID)
		}
	}
	return out
}
