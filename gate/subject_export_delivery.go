package gate

import (
	"archive/zip"
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"strings"
	"text/template"
	"time"

	"tresor"
)

// Delivery of the export: the DPO sends it; Tresor stores the zip sealed
// under a fresh data key of its own (wrapped by the KEK like every data
// key) and mails the requester a link that works once, for
// tresor.SubjectExportDays days. The download, or the end of that time,
// deletes the stored export together with its key, so that nothing of it
// can be opened again. The request's history records the sending and the
// download.

// subjectExportContent is the sealed part of a stored export.
type subjectExportContent struct {
	Zip string `json:"zip" category:"interaction.content"`
}

// errExportLink is the answer for a link that is unknown, used or expired:
// the same for all three, so that a guess learns nothing.
var errExportLink = &tresor.Error{Code: tresor.ECLinkInvalid,
	Message:   "This download link is not valid: it was used already, it has expired, or it never existed. Ask the data-protection officer for a new one.",
	MessageDE: "Dieser Download-Link ist nicht gültig: Er wurde schon benutzt, ist abgelaufen oder hat nie bestanden. Bitten Sie den Datenschutz um einen neuen."}

// subjectExportZip packs the two renderings.
func subjectExportZip(x *tresor.SubjectExport, jsonDoc, htmlDoc []byte) ([]byte, error) {
	var b bytes.Buffer
	z := zip.NewWriter(&b)
	for _, f := range []struct {
		name string
		data []byte
	}{{"export.json", jsonDoc}, {"export.html", htmlDoc}} {
		w, err := z.CreateHeader(&zip.FileHeader{Name: f.name, Method: zip.Deflate, Modified: x.GeneratedAt})
		if err != nil {
			return nil, err
		}
		if _, err := w.Write(f.data); err != nil {
			return nil, err
		}
	}
	if err := z.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

// SendSubjectExport builds the export of a request, stores it sealed and
// mails the requester's address a link to download it once. The audit
// trail records subject_export.send; the request's history, export_sent.
func (g *Gate) SendSubjectExport(ctx context.Context, requestID string) (*tresor.SubjectExportSent, error) {
	if g.mailer == nil {
		if _, err := g.requestRegister(ctx, "subject_export.send"); err != nil {
			return nil, err
		}
		return nil, &tresor.Error{Code: tresor.ECMailUnavailable,
			Message:   "No mail server is configured, and the download link goes to the requester by mail. Configure TRESOR_SMTP_ADDR, or make the export with `tresor requests export` and hand it over another way.",
			MessageDE: "Es ist kein Mailserver eingerichtet, und der Download-Link geht per E-Mail an die anfragende Person. TRESOR_SMTP_ADDR einrichten oder den Export mit `tresor requests export` erstellen und auf anderem Weg übergeben."}
	}
	x, r, err := g.subjectExport(ctx, "subject_export.send", requestID)
	if err != nil {
		return nil, err
	}
	addr, err := mail.ParseAddress(r.Address)
	if err != nil || addr.Address != r.Address {
		err := &tresor.Error{Code: tresor.ECConflict,
			Message:   "The request's address is no e-mail address, so no link can be mailed. Make the export with `tresor requests export` and send it by post.",
			MessageDE: "Die Adresse des Antrags ist keine E-Mail-Adresse; ein Link kann nicht gemailt werden. Erstellen Sie den Export mit `tresor requests export` und senden Sie ihn per Post."}
		g.recordBestEffort(ctx, g.entry(ctx, "subject_export.send", "request", []string{requestID}, nil, err))
		return nil, err
	}
	jsonDoc, err := g.renderSubjectExport(x, tresor.SubjectExportJSON)
	if err != nil {
		return nil, err
	}
	htmlDoc, err := g.renderSubjectExport(x, tresor.SubjectExportHTML)
	if err != nil {
		return nil, err
	}
	z, err := subjectExportZip(x, jsonDoc, htmlDoc)
	if err != nil {
		return nil, err
	}
	now := tresor.Truncate(g.now())
	token := randomString(32)
	row := &tresor.SubjectExportRow{ID: newID(), RequestID: r.ID, TokenHash: hashToken(token), Language: x.Language,
		CreatedAt: now, ExpiresAt: now.AddDate(0, 0, tresor.SubjectExportDays)}
	dk, w, err := g.newKey(row.ID)
	if err != nil {
		return nil, err
	}
	row.Sealed, err = dk.Seal("subject_export", row.ID, &subjectExportContent{Zip: string(z)})
	dk.Destroy()
	if err != nil {
		return nil, err
	}
	row.Sealing = tresor.Sealing{Key: w, KeyIsNew: true}
	if err := g.store.Update(ctx, func(tx tresor.Tx) error { return tx.InsertSubjectExport(ctx, row) }); err != nil {
		return nil, err
	}
	if err := g.mailer.Send(ctx, g.subjectExportMail(r.Address, x.Language, token, row.ExpiresAt)); err != nil {
		g.log.Error("send the export link", "request", r.ID, "error", err)
		if derr := g.dropSubjectExport(ctx, row); derr != nil {
			g.log.Error("drop an unsent export", "request", r.ID, "error", derr)
		}
		return nil, &tresor.Error{Code: tresor.ECUnavailable, Err: err,
			Message:   "The mail server did not take the mail; nothing was stored. Try again later.",
			MessageDE: "Der Mailserver hat die E-Mail nicht angenommen; es wurde nichts gespeichert. Bitte später erneut versuchen."}
	}
	by := ""
	if a := tresor.ActorFrom(ctx); a != nil && a.Kind != tresor.ActorSystem {
		by = a.UserID
	}
	e := g.entry(ctx, "subject_export.send", "request", append([]string{r.ID}, r.ContactIDs...), nil, nil)
	err = g.store.Update(ctx, func(tx tresor.Tx) error {
		// Only the newest link works: the earlier ones of the request go.
		if _, err := g.cancelEarlierExports(ctx, tx, r.ID, row.ID); err != nil {
			return err
		}
		if err := g.noteOnRequest(ctx, tx, r.ID, tresor.ActionExportSent, fmt.Sprintf("Export mailed to the requester; the link works once, until %s.",
			row.ExpiresAt.Format(time.DateOnly)), by); err != nil {
			return err
		}
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{e})
	})
	if err != nil {
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{e})
	return &tresor.SubjectExportSent{RequestID: r.ID, ExpiresAt: row.ExpiresAt}, nil
}

// renderSubjectExport renders the export as JSON or as the HTML document.
func (g *Gate) renderSubjectExport(x *tresor.SubjectExport, f tresor.SubjectExportFormat) ([]byte, error) {
	if f == tresor.SubjectExportHTML {
		return g.subjectExportHTML(x)
	}
	return renderSubjectExport(x, f)
}

// noteOnRequest adds an event that changes no state to a request's history.
func (g *Gate) noteOnRequest(ctx context.Context, tx tresor.Tx, id string, action tresor.RequestAction, reason, by string) error {
	row, err := tx.DataRequest(ctx, id)
	if err != nil {
		return err
	}
	r, err := g.requestFromRow(ctx, row)
	if err != nil {
		return err
	}
	now := tresor.Truncate(g.now())
	r.History = append(r.History, tresor.RequestEvent{At: now, State: r.State, Reason: reason, By: by, Action: action})
	prev := r.Version
	r.UpdatedAt, r.Version = now, prev+1
	newRow, err := g.requestToRow(ctx, tx, r, row)
	if err != nil {
		return err
	}
	return tx.UpdateDataRequest(ctx, newRow, prev)
}

// dropSubjectExport deletes a stored export and its data key.
func (g *Gate) dropSubjectExport(ctx context.Context, row *tresor.SubjectExportRow) error {
	return g.store.Update(ctx, func(tx tresor.Tx) error {
		if _, err := tx.DeleteSubjectExport(ctx, row.ID); err != nil {
			return err
		}
		return tx.DeleteDataKey(ctx, row.ID)
	})
}

// subjectExportRow returns the stored export of a usable link.
func (g *Gate) subjectExportRow(ctx context.Context, r tresor.SubjectExportReader, token string) (*tresor.SubjectExportRow, error) {
	if token == "" || len(token) > 100 {
		return nil, errExportLink
	}
	row, err := r.SubjectExportByToken(ctx, hashToken(token))
	if tresor.ErrorCode(err) == tresor.ECNotFound {
		return nil, errExportLink
	} else if err != nil {
		return nil, err
	}
	if !g.now().Before(row.ExpiresAt) {
		return nil, errExportLink
	}
	return row, nil
}

// SubjectExportLink describes a usable download link, for the page that
// offers the download; it changes nothing (mail scanners follow links).
func (g *Gate) SubjectExportLink(ctx context.Context, token string) (*tresor.SubjectExportLink, error) {
	row, err := g.subjectExportRow(ctx, g.store.Read(), token)
	if err != nil {
		return nil, err
	}
	return &tresor.SubjectExportLink{ExpiresAt: row.ExpiresAt, Language: row.Language}, nil
}

// DownloadSubjectExport hands out the export of a link, once: the stored
// export and its key are deleted in the same transaction, and the request's
// history records the download. The audit trail records
// subject_export.download.
func (g *Gate) DownloadSubjectExport(ctx context.Context, token string) (*tresor.SubjectExportFile, error) {
	var out *tresor.SubjectExportFile
	var e *tresor.AuditEntry
	err := g.store.Update(ctx, func(tx tresor.Tx) error {
		row, err := g.subjectExportRow(ctx, tx, token)
		if err != nil {
			return err
		}
		var content subjectExportContent
		if _, err := g.openRecord(ctx, "subject_export", row.ID, row.Key, row.Sealed, &content, nil); err != nil {
			return err
		}
		gone, err := tx.DeleteSubjectExport(ctx, row.ID)
		if err != nil {
			return err
		}
		if !gone {
			return errExportLink // downloaded in the meantime
		}
		if err := tx.DeleteDataKey(ctx, row.ID); err != nil {
			return err
		}
		if err := g.noteOnRequest(ctx, tx, row.RequestID, tresor.ActionExportDownloaded, "The requester downloaded the export; it was deleted.", ""); err != nil {
			return err
		}
		out = &tresor.SubjectExportFile{Name: "tresor-export-" + row.CreatedAt.Format("2006-01-02") + ".zip", Data: []byte(content.Zip)}
		e = g.entry(ctx, "subject_export.download", "request", []string{row.RequestID}, nil, nil)
		return g.appendTx(ctx, tx, []*tresor.AuditEntry{e})
	})
	if err != nil {
		return nil, err
	}
	g.committed([]*tresor.AuditEntry{e})
	return out, nil
}

// PurgeSubjectExports deletes the exports whose link expired, with their
// keys, and notes it on their requests. The maintenance loop runs it.
func (g *Gate) PurgeSubjectExports(ctx context.Context) (int, error) {
	rows, err := g.store.Read().SubjectExportsBefore(ctx, g.now())
	if err != nil {
		return 0, err
	}
	n := 0
	for _, row := range rows {
		err := g.store.Update(ctx, func(tx tresor.Tx) error {
			gone, err := tx.DeleteSubjectExport(ctx, row.ID)
			if err != nil || !gone {
				return err
			}
			if err := tx.DeleteDataKey(ctx, row.ID); err != nil {
				return err
			}
			n++
			err = g.noteOnRequest(ctx, tx, row.RequestID, tresor.ActionExportExpired, "The download link expired unused; the export was deleted.", "")
			if tresor.ErrorCode(err) == tresor.ECNotFound {
				return nil
			}
			return err
		})
		if err != nil {
			return n, err
		}
	}
	if n > 0 {
		e := g.entry(asSystem(ctx), "subject_export.purge", "", nil, nil, nil)
		e.Detail = fmt.Sprintf("%d expired exports deleted", n)
		g.recordBestEffort(ctx, e)
	}
	return n, nil
}

// subjectExportMails are the texts of the mail with the download link.
var subjectExportMails = template.Must(template.New("export").Parse(`
{{define "subject_de"}}Ihre Auskunft nach Art. 15 DSGVO{{end}}
{{define "subject_en"}}Your access to your personal data (Art. 15 GDPR){{end}}
{{define "de"}}Guten Tag,

Sie haben Auskunft über die Daten verlangt, die wir über Sie speichern.
Die Auskunft liegt für Sie bereit: ein lesbares Dokument und dieselben Daten
maschinenlesbar (JSON), zusammen als ZIP-Datei.

Laden Sie sie mit diesem Link herunter; er funktioniert einmal, bis {{.Expires}}:

{{.Link}}

Danach löschen wir die bereitgestellte Datei. Wenn Sie diese Auskunft nicht
verlangt haben, antworten Sie bitte auf diese E-Mail.
{{end}}
{{define "en"}}Hello,

You asked which data we store about you. Your copy is ready: a readable
document and the same data machine-readable (JSON), together as a ZIP file.

Download it with this link; it works once, until {{.Expires}}:

{{.Link}}

After that we delete the file we prepared. If you did not ask for this,
please reply to this e-mail.
{{end}}
`))

// subjectExportMail is the mail with the download link: a legal duty
// towards the person, not advertising, so it carries no unsubscribe link.
func (g *Gate) subjectExportMail(to, lang, token string, expires time.Time) *tresor.Mail {
	if lang != "en" {
		lang = "de"
	}
	data := map[string]string{"Link": g.publicURL + "/subject-export?token=" + token,
		"Expires": expires.UTC().Format("2006-01-02 15:04 UTC")}
	text := func(name string) string {
		var b bytes.Buffer
		if err := subjectExportMails.ExecuteTemplate(&b, name, data); err != nil {
			panic(err) // the templates are fixed and checked by the tests
		}
		return strings.TrimLeft(b.String(), "\n")
	}
	return &tresor.Mail{To: to, Subject: text("subject_" + lang), Text: text(lang)}
}
