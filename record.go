package tresor

import "time"

// ProcessingRecord is the record of processing activities (GDPR Art. 30(1))
// in one language, generated from the policy, the controller's data and the
// settings Tresor actually runs with — never written by hand, so it cannot
// drift from what the software does.
type ProcessingRecord struct {
	Lang        string    `json:"lang"`
	GeneratedAt time.Time `json:"generated_at"`
	// Controller and DPO: Art. 30(1)(a).
	Controller RecordParty `json:"controller"`
	DPO        RecordParty `json:"dpo"`
	// Activities: one per purpose, Art. 30(1)(b) to (f).
	Activities []ProcessingActivity `json:"activities"`
	// Transfers lists every connector Tresor reaches and every declared
	// transfer, with its country and safeguard: Art. 30(1)(e).
	Transfers []RecordTransfer `json:"transfers"`
	// Measures are the technical and organisational measures as configured:
	// Art. 30(1)(g) with Art. 32(1).
	Measures []RecordMeasure `json:"measures"`
	// InformationTexts are the Art. 13/14 texts per purpose.
	InformationTexts []InformationText `json:"information_texts"`
}

// RecordParty is the controller or its data-protection officer.
type RecordParty struct {
	Name    string `json:"name"`
	Address string `json:"address,omitempty"`
	Email   string `json:"email,omitempty"`
	Phone   string `json:"phone,omitempty"`
}

// ProcessingActivity is one purpose as a processing activity.
type ProcessingActivity struct {
	Purpose     string `json:"purpose"`
	Name        string `json:"name"`
	Description string `json:"description"`
	// LegalBases name the article of each legal basis the purpose allows.
	LegalBases   []RecordLegalBasis `json:"legal_bases"`
	DataSubjects string             `json:"data_subjects"`
	// Categories of personal data, each with its own period where the
	// policy sets one.
	Categories    []RecordCategory `json:"categories"`
	Art9Exception string           `json:"art9_exception,omitempty"`
	Recipients    []string         `json:"recipients"`
	// Transfers are the connectors this purpose reaches people through
	// that lie outside the EU/EEA.
	Transfers     []RecordTransfer `json:"third_country_transfers"`
	RetentionDays int              `json:"retention_days"`
	Retention     string           `json:"retention"`
	Erasure       string           `json:"erasure"`
}

// RecordLegalBasis is a legal basis with its article.
type RecordLegalBasis struct {
	Basis LegalBasis `json:"basis"`
	Text  string     `json:"text"`
}

// RecordCategory is a category of personal data a purpose stores.
type RecordCategory struct {
	ID            Category `json:"id"`
	Name          string   `json:"name"`
	Special       bool     `json:"special,omitempty"`
	RetentionDays int      `json:"retention_days"`
}

// RecordTransfer is a connector and where its data goes.
type RecordTransfer struct {
	Connector string `json:"connector"` // mastodon, bluesky, mail
	Endpoint  string `json:"endpoint"`  // the server or network, e.g. mastodon.social
	Country   string `json:"country,omitempty"`
	// ThirdCountry: outside the EU/EEA.
	ThirdCountry bool   `json:"third_country"`
	Safeguard    string `json:"safeguard,omitempty"`
	// InUse: Tresor is configured to reach it (a channel, the mail server);
	// Declared: the controller file names it. A connector in use that is not
	// declared is a gap the record shows.
	InUse    bool     `json:"in_use"`
	Declared bool     `json:"declared"`
	Purposes []string `json:"purposes"`
}

// RecordMeasure is one technical or organisational measure.
type RecordMeasure struct {
	ID    string `json:"id"`
	Title string `json:"title"`
	Text  string `json:"text"`
}

// InformationText is what a person is told about a purpose when data is
// collected from them (Art. 13) or elsewhere (Art. 14).
type InformationText struct {
	Purpose    string   `json:"purpose"`
	Title      string   `json:"title"`
	Paragraphs []string `json:"paragraphs"`
}
