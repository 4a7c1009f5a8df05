package server

import (
	"context"

	"tresor"
	"tresor/policy"
)

var _ tresor.MailService = (*fakeServices)(nil)

// SendEmail: testID has written and is under contract; refusedID has
// neither; advertising is refused for want of consent.
func (f *fakeServices) SendEmail(ctx context.Context, e tresor.EmailSend) (*tresor.EmailSent, error) {
	if _, err := declaredPurpose(ctx); err != nil {
		return nil, err
	}
	if err := e.Validate(); err != nil {
		return nil, err
	}
	switch e.ContactID {
	case testID, refusedID:
	default:
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no contact %s.", e.ContactID)
	}
	refuse := func(code tresor.Code, reason string) error {
		r := policy.Explain(reason, "e-mail", "marketing / email")
		return &tresor.Error{Code: code, Message: r.Message, MessageDE: r.MessageDE}
	}
	switch {
	case e.Kind == tresor.EmailAdvertising:
		return nil, refuse(tresor.ECForbidden, policy.RConsentMissing)
	case e.ContactID == refusedID && e.Kind == tresor.EmailReply:
		return nil, refuse(tresor.ECReplyWithoutConversation, policy.RReplyWithoutConversation)
	case e.ContactID == refusedID:
		return nil, refuse(tresor.ECNoContract, policy.RNoContract)
	}
	return &tresor.EmailSent{InteractionID: emptyID, Reasons: []tresor.Reason{policy.Explain(policy.RReplyInbound)}}, nil
}

func (f *fakeServices) ReplyToCase(ctx context.Context, caseID string, e tresor.EmailSend) (*tresor.EmailSent, error) {
	if _, err := declaredPurpose(ctx); err != nil {
		return nil, err
	}
	if caseID != testID {
		return nil, tresor.Errorf(tresor.ECNotFound, "There is no case %s.", caseID)
	}
	e.ContactID = testID
	if e.Subject == "" {
		e.Subject = "Re: Ihre Anfrage"
	}
	out, err := f.SendEmail(ctx, e)
	if out != nil {
		out.CaseID = caseID
	}
	return out, err
}

func (f *fakeServices) PollMailbox(ctx context.Context) (*tresor.MailboxReport, error) {
	pu, err := declaredPurpose(ctx)
	if err != nil {
		return nil, err
	}
	if pu.Outbound != policy.OutboundReply {
		return nil, policy.Refuse(policy.RServiceOnly, pu.ID)
	}
	return &tresor.MailboxReport{Read: 3, Skipped: 2, Cases: 2, Replies: 1, Linked: 2, Attachments: 1, Dropped: map[string]int{"special:special.health": 1}}, nil
}
