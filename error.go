package tresor

import (
	"errors"
	"fmt"
	"time"
)

// Code is a stable, machine-readable error code. Clients and scripts match on it,
// so a code, once released, keeps its name and meaning.
type Code string

// The error codes. The HTTP layer maps each to one status in a single table.
const (
	ECInternal    Code = "internal"    // a fault of ours; details are logged, never shown
	ECUnavailable Code = "unavailable" // shutting down, or a part this server does not run
	// ECStorageUnavailable: the database cannot be reached (restarted, failed
	// over, the network to it cut); try again shortly.
	ECStorageUnavailable Code = "storage_unavailable"
	// ECStorageFull: the database's disk is full; nothing was stored.
	ECStorageFull       Code = "storage_full"
	ECUnauthenticated   Code = "unauthenticated"        // no or invalid credentials
	ECForbidden         Code = "forbidden"              // authenticated, but not allowed
	ECPurposeMissing    Code = "purpose_missing"        // no Tresor-Purpose declared
	ECPurposeUnknown    Code = "purpose_unknown"        // a purpose the policy does not define
	ECPurposeNotAllowed Code = "purpose_not_permitted"  // the actor's roles do not allow the purpose
	ECNotFound          Code = "not_found"              // no such object (or route)
	ECMethodNotAllowed  Code = "method_not_allowed"     // the route exists, the method does not
	ECValidation        Code = "validation_failed"      // one or more fields are invalid; see Fields
	ECInvalidReference  Code = "invalid_reference"      // a referenced object does not exist
	ECConflict          Code = "conflict"               // the change contradicts stored state
	ECVersionMismatch   Code = "version_mismatch"       // If-Match names an older version
	ECMalformedJSON     Code = "malformed_json"         // the body is not valid JSON of the right shape
	ECUnknownField      Code = "unknown_field"          // the body names a field the object does not have
	ECBodyTooLarge      Code = "body_too_large"         // the body exceeds the limit
	ECUnsupportedMedia  Code = "unsupported_media_type" // the body is not JSON
	ECInvalidParameter  Code = "invalid_parameter"      // a query parameter is malformed
	ECInvalidCursor     Code = "invalid_cursor"         // a pagination cursor was not issued by us
	ECSchemaTooNew      Code = "schema_too_new"         // the database was migrated by a newer Tresor
	ECSchemaBehind      Code = "schema_behind"          // the database needs `tresor migrate`
	ECLoginFailed       Code = "login_failed"           // wrong e-mail address, password or code: deliberately not saying which
	ECThrottled         Code = "too_many_attempts"      // too many failed sign-ins; wait and retry
	ECCSRF              Code = "csrf_failed"            // a state-changing request without the session's form token, or from another site
	ECMFARequired       Code = "mfa_required"           // the session still needs its second factor
	ECPasswordRejected  Code = "password_rejected"      // the new password is too short or too common
	ECMailUnavailable   Code = "mail_not_configured"    // the action mails a person, and no mail server is configured
	ECSearchWarming     Code = "search_warming_up"      // the people index is still being built after a start
	ECExportTooLarge    Code = "export_too_large"       // an export would hold more contacts than MaxExport

	// Separation of duties.
	ECSeparationOfDuties Code = "separation_of_duties" // admin joined with a role that reaches personal data
	ECFourEyes           Code = "four_eyes"            // a grant approved by the one who asked for it or receives it

	// Refusals of the privacy engine; each comes with a German and an English explanation.
	ECAggregatesOnly           Code = "aggregates_only"            // the purpose sees only aggregates
	ECBasisMissing             Code = "legal_basis_missing"        // personal data without a legal basis
	ECBasisUnknown             Code = "legal_basis_unknown"        // not one of the legal bases
	ECBasisNotAllowed          Code = "legal_basis_not_allowed"    // a legal basis the purpose does not allow
	ECBalancingNote            Code = "balancing_note_missing"     // legitimate interest without a balancing note
	ECCategoryNotAllowed       Code = "category_not_allowed"       // a category the purpose may not store
	ECSpecialCategory          Code = "special_category"           // an Art. 9 category without an exception
	ECRestricted               Code = "contact_restricted"         // processing restricted (Art. 18)
	ECSuppressed               Code = "suppressed"                 // the person objected to marketing (Art. 21)
	ECObjectedInterest         Code = "objected_interest"          // the person objected to processing on legitimate interest (Art. 21(1))
	ECLinkInvalid              Code = "link_invalid"               // a confirmation or withdrawal link that is forged, used or expired
	ECNotPublic                Code = "not_public"                 // social data that was not publicly visible (R9)
	ECReplyWithoutConversation Code = "reply_without_conversation" // an e-mail sent as a reply, but the person never wrote
	ECNoContract               Code = "no_contract"                // an e-mail sent under a contract, but none is recorded
	ECPrivacyBudget            Code = "privacy_budget_exhausted"   // a listening read would spend more than the topic's privacy budget

	// Protection at rest.
	ECDamaged      Code = "record_damaged"  // a record's sealed fields do not decrypt: changed bytes or a lost key
	ECErased       Code = "contact_erased"  // the contact was erased; only its tombstone is left
	ECLegalHold    Code = "legal_hold"      // a legal hold keeps the contact from erasure
	ECArchived     Code = "archived"        // the customer relation is closed: read-only, seen only by the dpo
	ECReasonUnsafe Code = "reason_personal" // an erasure reason that repeats the person's identifiers
	ECMerged       Code = "contact_merged"  // the contact was merged into another; MergedInto names it
)

// Codes lists every error code, for the tables that must cover them all.
func Codes() []Code {
	return []Code{ECInternal, ECUnavailable, ECStorageUnavailable, ECStorageFull, ECUnauthenticated, ECForbidden, ECPurposeMissing, ECPurposeUnknown,
		ECPurposeNotAllowed, ECNotFound, ECMethodNotAllowed, ECValidation, ECInvalidReference, ECConflict,
		ECVersionMismatch, ECMalformedJSON, ECUnknownField, ECBodyTooLarge, ECUnsupportedMedia, ECInvalidParameter,
		ECInvalidCursor, ECSchemaTooNew, ECSchemaBehind, ECLoginFailed, ECThrottled, ECCSRF, ECMFARequired, ECPasswordRejected,
		ECMailUnavailable, ECSearchWarming, ECExportTooLarge, ECSeparationOfDuties, ECFourEyes,
		ECAggregatesOnly, ECBasisMissing, ECBasisUnknown, ECBasisNotAllowed, ECBalancingNote, ECCategoryNotAllowed,
		ECSpecialCategory, ECRestricted, ECSuppressed, ECObjectedInterest, ECLinkInvalid, ECNotPublic, ECReplyWithoutConversation, ECNoContract, ECPrivacyBudget,
		ECDamaged, ECErased, ECLegalHold, ECArchived, ECReasonUnsafe, ECMerged}
}

// Error is the one error type of Tresor. Message is written for the person who
// made the request and never contains internal details or personal data.
type Error struct {
	Code    Code
	Message string // English
	// MessageDE is the German text, where the refusal explains a rule.
	MessageDE string
	Fields    []FieldError // the invalid fields, for ECValidation
	Err       error        // the underlying cause, for logs only
	// RetryAfter, for ECThrottled, is how long to wait before the next attempt.
	RetryAfter time.Duration
	// MergedInto, for ECMerged, is the id of the contact that absorbed this one.
	MergedInto string
	// Art9Exception, for ECSpecialCategory, is the letter of Art. 9(2) GDPR
	// that the purpose allows the category under: confirming it with the
	// entry lifts the refusal. Empty when no confirmation would.
	Art9Exception string
}

// FieldError names one invalid field with a JSON path such as "emails[1]".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (e *Error) Error() string {
	if e.Err != nil {
		return fmt.Sprintf("%s: %s: %v", e.Code, e.Message, e.Err)
	}
	return fmt.Sprintf("%s: %s", e.Code, e.Message)
}

func (e *Error) Unwrap() error { return e.Err }

// Errorf returns an *Error with the given code and a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// ErrorCode returns the code of the first *Error in err's chain, or ECInternal.
func ErrorCode(err error) Code {
	if err == nil {
		return ""
	}
	var e *Error
	if errors.As(err, &e) {
		return e.Code
	}
	return ECInternal
}

// ErrorMessage returns the human message of err if it is an *Error, and a
// generic text otherwise, so internal details never reach a user.
func ErrorMessage(err error) string {
	var e *Error
	if errors.As(err, &e) {
		return e.Message
	}
	return "An internal error occurred."
}

// AsError returns the first *Error in err's chain, or nil.
func AsError(err error) *Error {
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return nil
}

// Problems collects field errors during validation.
type Problems []FieldError

// Add records that field is invalid.
func (p *Problems) Add(field, format string, args ...any) {
	*p = append(*p, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// Err returns an ECValidation error listing the problems, or nil if there are none.
func (p Problems) Err(object string) error {
	if len(p) == 0 {
		return nil
	}
	msg := fmt.Sprintf("The %s is invalid: %s: %s", object, p[0].Field, p[0].Message)
	if len(p) > 1 {
		msg = fmt.Sprintf("The %s is invalid in %d fields; the first is %s: %s", object, len(p), p[0].Field, p[0].Message)
	}
	return &Error{Code: ECValidation, Message: msg, Fields: p}
}

// Prefix returns the problems with every field path prefixed, for nested objects.
func (p Problems) Prefix(prefix string) Problems {
	out := make(Problems, len(p))
	for i, f := range p {
		out[i] = FieldError{Field: prefix + f.Field, Message: f.Message}
	}
	return out
}
