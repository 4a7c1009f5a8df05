package server

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"

	"tresor"
)

// statusOf maps every error code to its HTTP status: the one table.
var statusOf = map[tresor.Code]int{
	tresor.ECInternal:                 http.StatusInternalServerError,
	tresor.ECUnavailable:              http.StatusServiceUnavailable,
	tresor.ECStorageUnavailable:       http.StatusServiceUnavailable,
	tresor.ECStorageFull:              http.StatusInsufficientStorage,
	tresor.ECUnauthenticated:          http.StatusUnauthorized,
	tresor.ECForbidden:                http.StatusForbidden,
	tresor.ECPurposeMissing:           http.StatusBadRequest,
	tresor.ECPurposeUnknown:           http.StatusBadRequest,
	tresor.ECPurposeNotAllowed:        http.StatusForbidden,
	tresor.ECNotFound:                 http.StatusNotFound,
	tresor.ECMethodNotAllowed:         http.StatusMethodNotAllowed,
	tresor.ECValidation:               http.StatusUnprocessableEntity,
	tresor.ECInvalidReference:         http.StatusUnprocessableEntity,
	tresor.ECConflict:                 http.StatusConflict,
	tresor.ECVersionMismatch:          http.StatusPreconditionFailed,
	tresor.ECMalformedJSON:            http.StatusBadRequest,
	tresor.ECUnknownField:             http.StatusBadRequest,
	tresor.ECBodyTooLarge:             http.StatusRequestEntityTooLarge,
	tresor.ECUnsupportedMedia:         http.StatusUnsupportedMediaType,
	tresor.ECInvalidParameter:         http.StatusBadRequest,
	tresor.ECInvalidCursor:            http.StatusBadRequest,
	tresor.ECSchemaTooNew:             http.StatusServiceUnavailable,
	tresor.ECSchemaBehind:             http.StatusServiceUnavailable,
	tresor.ECLoginFailed:              http.StatusUnauthorized,
	tresor.ECThrottled:                http.StatusTooManyRequests,
	tresor.ECCSRF:                     http.StatusForbidden,
	tresor.ECMFARequired:              http.StatusForbidden,
	tresor.ECPasswordRejected:         http.StatusUnprocessableEntity,
	tresor.ECMailUnavailable:          http.StatusConflict,
	tresor.ECSearchWarming:            http.StatusServiceUnavailable,
	tresor.ECExportTooLarge:           http.StatusUnprocessableEntity,
	tresor.ECSeparationOfDuties:       http.StatusForbidden,
	tresor.ECFourEyes:                 http.StatusForbidden,
	tresor.ECAggregatesOnly:           http.StatusForbidden,
	tresor.ECBasisMissing:             http.StatusUnprocessableEntity,
	tresor.ECBasisUnknown:             http.StatusBadRequest,
	tresor.ECBasisNotAllowed:          http.StatusUnprocessableEntity,
	tresor.ECBalancingNote:            http.StatusUnprocessableEntity,
	tresor.ECCategoryNotAllowed:       http.StatusUnprocessableEntity,
	tresor.ECSpecialCategory:          http.StatusUnprocessableEntity,
	tresor.ECRestricted:               http.StatusForbidden,
	tresor.ECSuppressed:               http.StatusForbidden,
	tresor.ECObjectedInterest:         http.StatusForbidden,
	tresor.ECReplyWithoutConversation: http.StatusForbidden,
	tresor.ECNoContract:               http.StatusForbidden,
	tresor.ECPrivacyBudget:            http.StatusForbidden,
	tresor.ECLinkInvalid:              http.StatusNotFound,
	tresor.ECNotPublic:                http.StatusUnprocessableEntity,
	tresor.ECDamaged:                  http.StatusInternalServerError,
	tresor.ECErased:                   http.StatusGone,
	tresor.ECLegalHold:                http.StatusConflict,
	tresor.ECArchived:                 http.StatusForbidden,
	tresor.ECMerged:                   http.StatusPermanentRedirect,
	tresor.ECReasonUnsafe:             http.StatusUnprocessableEntity,
}

// titleOf is the short, fixed title of each problem type.
var titleOf = map[tresor.Code]string{
	tresor.ECInternal:           "Internal error",
	tresor.ECUnavailable:        "Service unavailable",
	tresor.ECStorageUnavailable: "Database unavailable",
	tresor.ECStorageFull:        "Storage full",
	tresor.ECUnauthenticated:    "Not authenticated",
	tresor.ECForbidden:          "Forbidden",
	tresor.ECPurposeMissing:     "Purpose missing",
	tresor.ECPurposeUnknown:     "Unknown purpose",
	tresor.ECPurposeNotAllowed:  "Purpose not permitted",
	tresor.ECNotFound:           "Not found",
	tresor.ECMethodNotAllowed:   "Method not allowed",
	tresor.ECValidation:         "Validation failed",
	tresor.ECInvalidReference:   "Invalid reference",
	tresor.ECConflict:           "Conflict",
	tresor.ECVersionMismatch:    "Version mismatch",
	tresor.ECMalformedJSON:      "Malformed JSON",
	tresor.ECUnknownField:       "Unknown field",
	tresor.ECBodyTooLarge:       "Body too large",
	tresor.ECUnsupportedMedia:   "Unsupported media type",
	tresor.ECInvalidParameter:   "Invalid parameter",
	tresor.ECInvalidCursor:      "Invalid cursor",
	tresor.ECSchemaTooNew:       "Database schema too new",
	tresor.ECSchemaBehind:       "Database schema behind",
	tresor.ECLoginFailed:        "Sign-in failed",
	tresor.ECThrottled:          "Too many attempts",
	tresor.ECCSRF:               "Cross-site request refused",
	tresor.ECMFARequired:        "Second factor required",
	tresor.ECPasswordRejected:   "Password rejected",
	tresor.ECMailUnavailable:    "No mail server",
	tresor.ECSearchWarming:      "Search warming up",
	tresor.ECExportTooLarge:     "Export too large",
	tresor.ECSeparationOfDuties: "Separation of duties",
	tresor.ECFourEyes:           "Second person required",
	tresor.ECAggregatesOnly:     "Aggregates only",
	tresor.ECBasisMissing:       "Legal basis missing",
	tresor.ECBasisUnknown:       "Unknown legal basis",
	tresor.ECBasisNotAllowed:    "Legal basis not allowed",
	tresor.ECBalancingNote:      "Balancing note missing",
	tresor.ECCategoryNotAllowed: "Category not allowed",
	tresor.ECSpecialCategory:    "Special category",
	tresor.ECRestricted:         "Processing restricted",
	tresor.ECSuppressed:         "Suppressed",
	tresor.ECObjectedInterest:   "Objection to processing",
	tresor.ECLinkInvalid:        "Link invalid",
	tresor.ECNotPublic:          "Not public",
	tresor.ECDamaged:            "Record damaged",
	tresor.ECErased:             "Contact erased",
	tresor.ECLegalHold:          "Legal hold",
	tresor.ECArchived:           "Archived",
	tresor.ECReasonUnsafe:       "Reason names the person",
	tresor.ECMerged:             "Contact merged",
	tresor.ECPrivacyBudget:      "Privacy budget spent",
}

// problem is an RFC 9457 problem details object with Tresor's members.
type problem struct {
	Type      string              `json:"type"`
	Title     string              `json:"title"`
	Status    int                 `json:"status"`
	Detail    string              `json:"detail"`
	Code      tresor.Code         `json:"code"`
	Instance  string              `json:"instance,omitempty"`
	RequestID string              `json:"request_id,omitempty"`
	Errors    []tresor.FieldError `json:"errors,omitempty"`
	// Explanation gives the rule behind a refusal in both languages.
	Explanation *explanation `json:"explanation,omitempty"`
	// MergedInto names the contact a merged one lives on in (with Location).
	MergedInto string `json:"merged_into,omitempty"`
	// Art9Exception, for special_category, is the letter of Art. 9(2) GDPR
	// whose confirmation (art9_exception with the entry) lifts the refusal.
	Art9Exception string `json:"art9_exception,omitempty"`
}

type explanation struct {
	EN string `json:"en"`
	DE string `json:"de"`
}

// storageError names an error of reaching the database as such (503
// storage_unavailable), where the service behind Health can tell.
func (s *Server) storageError(err error) error {
	if c, ok := s.svc.Health.(interface{ StorageError(error) error }); ok {
		return c.StorageError(err)
	}
	return err
}

// problemType is the URI of a problem type: a URN, so it needs no web server.
func problemType(code tresor.Code) string { return "urn:tresor:problem:" + string(code) }

// writeError writes err as problem+json. Errors that are not *tresor.Error
// are internal: logged in full, shown only as "internal error".
func (s *Server) writeError(w http.ResponseWriter, r *http.Request, err error) {
	err = s.storageError(err)
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		err = tresor.Errorf(tresor.ECBodyTooLarge, "The body is larger than %d bytes.", mbe.Limit)
	}
	code := tresor.ErrorCode(err)
	status, ok := statusOf[code]
	if !ok {
		status, code = http.StatusInternalServerError, tresor.ECInternal
	}
	p := problem{Type: problemType(code), Title: titleOf[code], Status: status, Code: code,
		Detail: tresor.ErrorMessage(err), Instance: r.URL.Path, RequestID: tresor.RequestIDFrom(r.Context())}
	if e := tresor.AsError(err); e != nil {
		p.Errors = e.Fields
		if e.Code == tresor.ECMerged && e.MergedInto != "" {
			p.MergedInto = e.MergedInto
			w.Header().Set("Location", mergedLocation(e))
		}
		p.Art9Exception = e.Art9Exception
		if e.MessageDE != "" {
			p.Explanation = &explanation{EN: e.Message, DE: e.MessageDE}
			if language(r) == "de" {
				p.Detail = e.MessageDE
			}
		}
	}
	setRetryAfter(w, err)
	if status >= 500 {
		// The cause goes to the log; it never carries request bodies.
		s.log.LogAttrs(r.Context(), slog.LevelError, "request failed", slog.String("request_id", p.RequestID),
			slog.String("code", string(code)), slog.String("error", err.Error()))
	}
	if code == tresor.ECUnauthenticated {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tresor"`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(p)
}

// writeJSON writes v as JSON with the status. It encodes into a buffer
// first: a value that does not encode is an error the handler returns, so
// the client gets a 500 problem with the request id (and the log the cause),
// never a 200 with an empty or cut body.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(v); err != nil {
		return fmt.Errorf("encode the answer: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// setRetryAfter tells the client when to try again, in whole seconds
// rounded up, when err asks it to wait (a throttled sign-in).
func setRetryAfter(w http.ResponseWriter, err error) {
	if e := tresor.AsError(err); e != nil && e.RetryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(int(e.RetryAfter.Seconds()+0.999)))
	}
}
