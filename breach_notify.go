package tresor

import "context"

// BreachPeopleNotice is the notice to the people a breach concerns
// (Art. 34 GDPR), mailed to the contacts named.
type BreachPeopleNotice struct {
	Lang       string   `json:"lang"`
	Subject    string   `json:"subject"`
	Body       string   `json:"body"`
	ContactIDs []string `json:"contact_ids"`
}

// MaxBreachNoticeContacts is how many contacts one call notifies.
const MaxBreachNoticeContacts = 1000

// Validate checks the notice.
func (n *BreachPeopleNotice) Validate() error {
	var p Problems
	if n.Lang != "de" && n.Lang != "en" {
		p.Add("lang", "must be de or en")
	}
	checkText(&p, "subject", n.Subject, maxShortText, true, false)
	checkText(&p, "body", n.Body, maxLongText, true, true)
	if len(n.ContactIDs) == 0 || len(n.ContactIDs) > MaxBreachNoticeContacts {
		p.Add("contact_ids", "name the affected contacts, 1 to %d per call", MaxBreachNoticeContacts)
	}
	for _, id := range n.ContactIDs {
		checkID(&p, "contact_ids", id)
	}
	return p.Err("notice")
}

// BreachPeopleNotified says what a notice to the people did.
type BreachPeopleNotified struct {
	Breach *Breach `json:"breach"`
	// Sent is how many contacts were mailed.
	Sent int `json:"sent"`
	// NoAddress are the contacts without an e-mail address: tell them
	// another way (Art. 34(3)(c) allows a public communication).
	NoAddress []string `json:"no_address"`
	// Failed are the contacts whose mail the server did not take.
	Failed []string `json:"failed"`
}

// BreachNotifier mails the notice of a breach to the people it concerns.
type BreachNotifier interface {
	NotifyBreachPeople(ctx context.Context, id string, n BreachPeopleNotice) (*BreachPeopleNotified, error)
}
