package policy

import (
	"strconv"
	"strings"

	"tresor"
)

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

// RefuseBudget is the refusal of a listening read that would spend more
// than the topic's privacy budget, with the figures in English and German
// notation.
func (p *Policy) RefuseBudget(spent, budget float64) error {
	num := func(f float64) both {
		en := strconv.FormatFloat(f, 'f', -1, 64)
		return both{EN: en, DE: strings.ReplaceAll(en, ".", ",")}
	}
	return Refuse(RPrivacyBudget, num(spent), num(budget), num(p.Listening.EpsilonPerQuery), num(p.Listening.EpsilonBudgetMax))
}
