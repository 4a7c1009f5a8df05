package tresor

import "context"

// RequestSubmission is what a person sends with the public request form,
// without an account.
type RequestSubmission struct {
	Kind RequestKind
	// Email is the address the confirmation link goes to; the request is
	// matched to stored contacts by it only once the link was used.
	Email string
	// Message is optional free text; it is screened for special
	// categories (Art. 9 GDPR) and sealed with the request.
	Message string
	// Language is the language of the mail and the answer: de or en.
	Language string
	// Client is the network address of the sender, for the rate limit.
	Client string
}

// RequestReceipt is all a requester learns from the form and the link:
// the same whether or not the address belongs to anyone Tresor knows.
type RequestReceipt struct {
	Kind RequestKind
	// Due is the day the request will be answered by (for a link that is
	// still to be confirmed, the day as it stands).
	Due Date
	// Language is the language the requester chose.
	Language string
}

// RequestIntake takes requests of data subjects from the public: the form
// and the link that verifies the requester's address. Nothing of it needs
// a signed-in actor; nothing of it tells anything about stored people.
type RequestIntake interface {
	// SubmitRequest records a request from the form and mails the link
	// that verifies the address; rate-limited per client and per address.
	SubmitRequest(ctx context.Context, s RequestSubmission) (*RequestReceipt, error)
	// RequestVerification checks a verification link without using it
	// (the page a mail scanner may fetch).
	RequestVerification(ctx context.Context, token string) (*RequestReceipt, error)
	// VerifyRequest uses the link, once: the request becomes
	// identity_verified and is matched to contacts by the address.
	VerifyRequest(ctx context.Context, token, client string) (*RequestReceipt, error)
}

// RequestIdentityService is the DPO's side of verifying who asked and whom
// the request concerns.
type RequestIdentityService interface {
	// SendRequestVerification mails the verification link to the e-mail
	// address of a received request (e.g. one recorded by staff).
	SendRequestVerification(ctx context.Context, id string) (*Request, error)
	// LinkRequestContact records that the request concerns the contact.
	LinkRequestContact(ctx context.Context, id, contactID string) (*Request, error)
	// UnlinkRequestContact removes a contact from the request.
	UnlinkRequestContact(ctx context.Context, id, contactID string) (*Request, error)
}
