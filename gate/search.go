package gate

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"runtime"
	"runtime/debug"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"tresor"
	"tresor/search"
)

// The people search. Names, addresses and numbers are sealed per person, so
// the database cannot search them; the gate keeps an index of their folded
// words in memory, built from the decrypted records when search starts and
// kept current after every committed write of this process (watchedStore)
// and, on a database shared with other processes, by following the change
// feed of the contacts (followChanges). Nothing of the index is written
// anywhere. A search sees only the fields of the categories the declared
// purpose may see, and is recorded in the audit trail with its hits and a
// keyed hash of the query, never the query itself.

// The index fields, one per category a contact is found by.
var searchFields = []struct {
	cat   tresor.Category
	field search.Field
}{
	{tresor.CatContactName, 1 << 0},
	{tresor.CatContactEmail, 1 << 1},
	{tresor.CatContactPhone, 1 << 2},
	{tresor.CatContactPostal, 1 << 3},
	{tresor.CatSocialHandle, 1 << 4},
	{tresor.CatEmployer, 1 << 5},
	{tresor.CatPosition, 1 << 6},
}

// tagField holds a contact's tags: business data every purpose that sees
// the contact may find it by.
const tagField search.Field = 1 << 7

func searchField(c tresor.Category) search.Field {
	for _, f := range searchFields {
		if f.cat == c {
			return f.field
		}
	}
	panic("no search field for " + c)
}

// The states a search filters on.
const (
	flagRestricted uint8 = 1 << iota
	flagArchived
	flagObjected
)

// MaxQueryLength bounds a search query, in characters.
const MaxQueryLength = 200

// searcher is the gate's people index, the index of organizations, and
// their loading state.
type searcher struct {
	ix      *search.Index
	orgs    *search.Index
	start   sync.Once
	on      atomic.Bool  // writes are applied: the loader has started
	loaded  atomic.Int64 // contacts loaded so far
	total   atomic.Int64 // contacts to load, as counted at the start
	loadErr atomic.Value // error: why loading failed
	mu      sync.Mutex
	cancel  context.CancelFunc // stops the loader and the follower
	done    sync.WaitGroup
}

// stopSearch stops the loader and the follower of the change feed and
// waits for them: the store closes after.
func (g *Gate) stopSearch() {
	g.search.mu.Lock()
	cancel := g.search.cancel
	g.search.mu.Unlock()
	if cancel != nil {
		cancel()
	}
	g.search.done.Wait()
}

// SearchState says how far the index is.
type SearchState struct {
	Ready         bool
	Loaded, Total int64
	Documents     int
	Err           string
}

// SearchState reports the state of the people index.
func (g *Gate) SearchState() SearchState {
	s := &g.search
	st := SearchState{Ready: s.ix.Ready(), Loaded: s.loaded.Load(), Total: s.total.Load(), Documents: s.ix.Len()}
	if err, ok := s.loadErr.Load().(error); ok && err != nil {
		st.Err = err.Error()
	}
	return st
}

// StartSearch loads the people index in the background, once; searches
// answer ECSearchWarming until it is complete. The server calls it at start;
// a search starts it too.
func (g *Gate) StartSearch(ctx context.Context) {
	g.search.start.Do(func() {
		g.search.mu.Lock()
		ctx, g.search.cancel = context.WithCancel(ctx)
		g.search.mu.Unlock()
		g.search.on.Store(true)
		from, err := g.store.Read().LastChange(ctx)
		if err != nil {
			g.search.loadErr.Store(err)
			return
		}
		g.search.done.Add(2)
		go func() {
			defer g.search.done.Done()
			g.followChanges(ctx, from, time.Second)
		}()
		go func() {
			defer g.search.done.Done()
			if err := g.loadIndex(ctx); err != nil {
				g.search.loadErr.Store(err)
				g.log.Error("search index: loading failed", "err", err)
				return
			}
			g.search.orgs.SetReady()
			g.search.ix.SetReady()
			// Loading decrypted every record: its garbage is several times
			// the index. Given back to the system now, the server's resident
			// memory after its start is what it keeps, not the load's peak.
			debug.FreeOSMemory()
			var ms runtime.MemStats
			runtime.ReadMemStats(&ms)
			g.log.Info("search index ready", "contacts", g.search.ix.Len(), "heap_mb", ms.HeapAlloc>>20)
		}()
	})
}

// WaitSearch waits until the index is ready, for tests and benchmarks.
func (g *Gate) WaitSearch(ctx context.Context) error {
	g.StartSearch(context.WithoutCancel(ctx))
	for !g.search.ix.Ready() {
		if err, ok := g.search.loadErr.Load().(error); ok && err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(10 * time.Millisecond):
		}
	}
	return nil
}

// loadIndex reads every contact, a page at a time, and indexes it: two
// workers decrypt while the next page is read.
func (g *Gate) loadIndex(ctx context.Context) error {
	if err := g.loadOrganizations(ctx); err != nil {
		return err
	}
	st, err := g.store.Read().Stats(ctx)
	if err != nil {
		return err
	}
	g.search.total.Store(int64(st.Contacts))
	pages := make(chan []*tresor.ContactRow, 2)
	errs := make(chan error, 3)
	var wg sync.WaitGroup
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for rows := range pages {
				docs := make([]search.Doc, 0, len(rows))
				for _, row := range rows {
					if d, ok := g.contactDoc(ctx, row); ok {
						docs = append(docs, d)
					}
				}
				g.search.ix.Put(docs...)
				g.search.loaded.Add(int64(len(rows)))
			}
		}()
	}
	after := ""
	for {
		rows, err := g.store.Read().Contacts(ctx, tresor.ContactQuery{ContactFilter: tresor.ContactFilter{Page: tresor.Page{After: after, Limit: 2000}}})
		if err != nil {
			errs <- err
			break
		}
		if len(rows) == 0 {
			break
		}
		pages <- rows
		after = rows[len(rows)-1].ID
	}
	close(pages)
	wg.Wait()
	select {
	case err := <-errs:
		return err
	default:
		return nil
	}
}

// loadOrganizations indexes every organization.
func (g *Gate) loadOrganizations(ctx context.Context) error {
	after := ""
	for {
		os, err := g.store.Read().Organizations(ctx, tresor.OrganizationFilter{Page: tresor.Page{After: after, Limit: 2000}})
		if err != nil || len(os) == 0 {
			return err
		}
		docs := make([]search.Doc, len(os))
		for i, o := range os {
			docs[i] = organizationDoc(o)
		}
		g.search.orgs.Put(docs...)
		after = os[len(os)-1].ID
	}
}

// organizationDoc is what the index keeps of an organization: its name,
// industry, website and town, all business data.
func organizationDoc(o *tresor.Organization) search.Doc {
	d := search.Doc{ID: o.ID, Meta: search.Meta{Version: o.Version, Owner: o.OwnerID, Updated: o.UpdatedAt.UnixMicro(),
		Order: search.Fold(o.Name)}}
	for _, t := range append([]string{o.Name, o.Industry, strings.TrimPrefix(strings.TrimPrefix(o.Website, "https://"), "http://")}, o.Tags...) {
		if t != "" {
			d.Values = append(d.Values, search.Value{Field: orgField, Kind: search.Text, Text: t})
		}
	}
	if a := o.Address; a != nil && a.City != "" {
		d.Values = append(d.Values, search.Value{Field: orgField, Kind: search.Text, Text: a.City})
	}
	return d
}

// orgField is the one field of organizations: none of it is personal.
const orgField search.Field = 1

// searchOrganizations finds organizations by the words of their name,
// industry, website or town.
func (g *Gate) searchOrganizations(ctx context.Context, req *request, f tresor.OrganizationFilter, limit int) (*tresor.List[*tresor.Organization], error) {
	offset, err := g.searchReady(ctx, f.Query, f.Page)
	if err != nil {
		return nil, err
	}
	var since int64
	if !f.UpdatedSince.IsZero() {
		since = f.UpdatedSince.UnixMicro()
	}
	res := g.search.orgs.Search(search.Query{Text: f.Query, Fields: orgField, Offset: offset, Limit: limit,
		Keep: func(m search.Meta) bool { return (f.OwnerID == "" || m.Owner == f.OwnerID) && m.Updated >= since }})
	out := &tresor.List[*tresor.Organization]{Items: make([]*tresor.Organization, 0, len(res.Hits)), Total: res.Total, Counted: true}
	if offset+len(res.Hits) < res.Total {
		out.Next = tresor.OffsetCursor(offset + len(res.Hits))
	}
	for _, h := range res.Hits {
		o, err := g.store.Read().Organization(ctx, h.ID)
		if tresor.ErrorCode(err) == tresor.ECNotFound {
			continue
		}
		if err != nil {
			return nil, err
		}
		out.Items = append(out.Items, o)
	}
	return out, nil
}

// searchReady checks a query and its cursor, and that the index is loaded;
// it returns where the page starts.
func (g *Gate) searchReady(ctx context.Context, q string, p tresor.Page) (int, error) {
	if n := len([]rune(q)); n > MaxQueryLength {
		return 0, &tresor.Error{Code: tresor.ECInvalidParameter,
			Message:   fmt.Sprintf("The search has %d characters; search with at most %d.", n, MaxQueryLength),
			MessageDE: fmt.Sprintf("Die Suche hat %d Zeichen; suchen Sie mit höchstens %d.", n, MaxQueryLength)}
	}
	offset, err := tresor.OffsetOf(p)
	if err != nil {
		return 0, err
	}
	g.StartSearch(context.WithoutCancel(ctx))
	if !g.search.ix.Ready() {
		st := g.SearchState()
		e := &tresor.Error{Code: tresor.ECSearchWarming,
			Message:   "The search is being prepared after the start: the names are sealed, so Tresor reads them into memory first. Try again in a few seconds.",
			MessageDE: "Die Suche wird nach dem Start vorbereitet: Die Namen sind verschlüsselt, Tresor liest sie erst in den Arbeitsspeicher. Versuchen Sie es in ein paar Sekunden noch einmal."}
		if st.Total > 0 {
			e.Message += fmt.Sprintf(" (%d of %d contacts read)", st.Loaded, st.Total)
			e.MessageDE += fmt.Sprintf(" (%d von %d Kontakten gelesen)", st.Loaded, st.Total)
		}
		e.RetryAfter = 2 * time.Second
		return 0, e
	}
	return offset, nil
}

// contactDoc decrypts a stored contact into the document the index keeps.
// A damaged record is left out (it is listed as damaged, never found).
func (g *Gate) contactDoc(ctx context.Context, row *tresor.ContactRow) (search.Doc, bool) {
	c := row.Contact
	if _, err := g.openRecord(ctx, "contact", c.ID, row.Key, row.Sealed, &c.ContactDetails, nil); err != nil {
		return search.Doc{}, false
	}
	d := &c.ContactDetails
	doc := search.Doc{ID: c.ID, Meta: search.Meta{Version: c.Version, Owner: c.OwnerID, Org: c.OrganizationID, Updated: c.UpdatedAt.UnixMicro(),
		Order: search.Fold(d.FamilyName + " " + d.GivenName), Order2: search.Fold(d.Organization)}}
	add := func(cat tresor.Category, kind search.Kind, texts ...string) {
		for _, t := range texts {
			if t != "" {
				doc.Values = append(doc.Values, search.Value{Field: searchField(cat), Kind: kind, Text: t})
			}
		}
	}
	add(tresor.CatContactName, search.Text, d.GivenName, d.FamilyName)
	// E-mail addresses by their words; whole addresses and phone numbers
	// are found through the blind index (exactIDs), not kept here.
	add(tresor.CatContactEmail, search.Email, d.Emails...)
	if a := d.PostalAddress; a != nil {
		add(tresor.CatContactPostal, search.Text, a.PostalCode, a.City) // the street finds nobody one would look for
	}
	for _, h := range d.SocialHandles {
		add(tresor.CatSocialHandle, search.Handle, h.Handle)
	}
	add(tresor.CatEmployer, search.Text, d.Organization)
	add(tresor.CatPosition, search.Text, d.Position)
	for _, t := range c.Tags {
		doc.Values = append(doc.Values, search.Value{Field: tagField, Kind: search.Text, Text: t})
	}
	if c.RestrictedAt != nil {
		doc.Flags |= flagRestricted
	}
	if c.ArchivedAt != nil {
		doc.Flags |= flagArchived
	}
	if c.ObjectedAt != nil {
		doc.Flags |= flagObjected
	}
	return doc, true
}

// indexChanged brings the index up to date after a committed transaction.
func (g *Gate) indexChanged(ctx context.Context, ch *contactChanges) {
	if !g.search.on.Load() || ch.empty() {
		return
	}
	docs := make([]search.Doc, 0, len(ch.rows))
	for _, row := range ch.rows {
		if d, ok := g.contactDoc(ctx, row); ok {
			docs = append(docs, d)
		} else {
			ch.reread = append(ch.reread, row.ID)
		}
	}
	g.search.ix.Put(docs...)
	if len(ch.removed) > 0 {
		g.search.ix.Remove(ch.removed...)
	}
	for _, id := range ch.reread {
		g.reindex(ctx, id)
	}
	for _, o := range ch.orgs {
		g.search.orgs.Put(organizationDoc(o))
	}
	if len(ch.orgsRemoved) > 0 {
		g.search.orgs.Remove(ch.orgsRemoved...)
	}
}

// reindex reads one contact again and indexes it, or removes it if gone.
func (g *Gate) reindex(ctx context.Context, id string) {
	row, err := g.store.Read().Contact(ctx, id)
	switch {
	case tresor.ErrorCode(err) == tresor.ECNotFound:
		g.search.ix.Remove(id)
	case err != nil:
		g.log.Error("search index: a changed contact could not be read", "contact", id, "err", err)
	default:
		if d, ok := g.contactDoc(ctx, row); ok {
			g.search.ix.Put(d)
		} else {
			g.search.ix.Remove(id)
		}
	}
}

// reindexOrganization reads one organization again and indexes it, or
// removes it if gone.
func (g *Gate) reindexOrganization(ctx context.Context, id string) {
	o, err := g.store.Read().Organization(ctx, id)
	switch {
	case tresor.ErrorCode(err) == tresor.ECNotFound:
		g.search.orgs.Remove(id)
	case err != nil:
		g.log.Error("search index: a changed organization could not be read", "organization", id, "err", err)
	default:
		g.search.orgs.Put(organizationDoc(o))
	}
}

// exactIDs finds the contacts a query names exactly, through the blind
// index: a whole e-mail address, or a phone number in any usual format (a
// national number is read as German), if the purpose may see that
// category.
func (g *Gate) exactIDs(ctx context.Context, req *request, q string) ([]string, error) {
	q = strings.TrimSpace(q)
	var key tresor.LookupKey
	switch {
	case strings.Contains(q, "@") && !strings.HasPrefix(q, "@") && req.pu.Allows(tresor.CatContactEmail):
		email, err := tresor.NormalizeEmail(q)
		if err != nil {
			return nil, nil // not an address: its words are searched
		}
		key = tresor.LookupKey{Kind: tresor.LookupEmail, Value: email}
	case search.IsPhone(q) && req.pu.Allows(tresor.CatContactPhone):
		n := q
		if strings.HasPrefix(n, "0") && !strings.HasPrefix(n, "00") {
			n = "+49" + n[1:]
		}
		phone, err := tresor.NormalizePhone(n)
		if err != nil {
			return nil, nil
		}
		key = tresor.LookupKey{Kind: tresor.LookupPhone, Value: phone}
	default:
		return nil, nil
	}
	k := g.blind(key)
	m, err := g.store.Read().LookupContacts(ctx, []tresor.LookupKey{k})
	if err != nil || m[k] == "" {
		return nil, err
	}
	return []string{m[k]}, nil
}

// queryHash is the keyed hash of a query the audit trail records: the DPO
// can match repeated queries, nobody can read them.
func (g *Gate) queryHash(q string) string {
	m := hmac.New(sha256.New, g.keys.Index)
	m.Write([]byte("search\x00"))
	m.Write([]byte(strings.Join(strings.Fields(strings.ToLower(q)), " ")))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:16])
}

// checkContactFilter checks the order and the consent filter of a contact
// list: sorting by a category the purpose may not see would tell what it
// withholds.
func (g *Gate) checkContactFilter(req *request, f *tresor.ContactFilter) error {
	switch f.Sort {
	case "", tresor.SortCreated, tresor.SortUpdated:
	case tresor.SortName:
		if !req.pu.Allows(tresor.CatContactName) {
			return req.pu.RefuseCategory(tresor.CatContactName)
		}
	case tresor.SortOrganization:
		if !req.pu.Allows(tresor.CatEmployer) {
			return req.pu.RefuseCategory(tresor.CatEmployer)
		}
	default:
		return &tresor.Error{Code: tresor.ECInvalidParameter,
			Message:   fmt.Sprintf("sort must be one of %s, not %q.", strings.Join(tresor.ContactSorts(), ", "), f.Sort),
			MessageDE: fmt.Sprintf("Sortiert wird nach %s, nicht nach %q.", strings.Join(tresor.ContactSorts(), ", "), f.Sort)}
	}
	if cf := f.Consent; cf != nil {
		if _, ok := g.policy.Purpose(cf.Purpose); !ok {
			return &tresor.Error{Code: tresor.ECInvalidParameter, Message: fmt.Sprintf("consent: %q is not a purpose of the policy.", cf.Purpose),
				MessageDE: fmt.Sprintf("Einwilligung: %q ist kein Zweck der Richtlinie.", cf.Purpose)}
		}
		if _, err := tresor.ParseConsentChannel(string(cf.Channel)); err != nil {
			return &tresor.Error{Code: tresor.ECInvalidParameter, Message: fmt.Sprintf("consent: %q is not a channel.", cf.Channel),
				MessageDE: fmt.Sprintf("Einwilligung: %q ist kein Kanal.", cf.Channel)}
		}
		switch cf.State {
		case tresor.ConsentGranted, tresor.ConsentPending, tresor.ConsentWithdrawn, tresor.ConsentUnknown:
		default:
			return &tresor.Error{Code: tresor.ECInvalidParameter,
				Message:   fmt.Sprintf("consent: the state must be granted, pending, withdrawn or unknown, not %q.", cf.State),
				MessageDE: fmt.Sprintf("Einwilligung: Der Stand ist erteilt, ausstehend, widerrufen oder unbekannt, nicht %q.", cf.State)}
		}
	}
	return nil
}

// contactHits asks the people index for the hits of f under the request's
// purpose: only in the fields it may see, without the states it may not, in
// f's order. The list, the search and the export ask it alike.
func (g *Gate) contactHits(ctx context.Context, req *request, f tresor.ContactFilter, offset, limit int) (search.Result, error) {
	fields := tagField
	for _, sf := range searchFields {
		if req.pu.Allows(sf.cat) {
			fields |= sf.field
		}
	}
	var hide uint8
	if !req.pu.SeesRestricted {
		hide |= flagRestricted | flagArchived
	}
	if req.pu.HidesObjected {
		hide |= flagObjected
	}
	var since int64
	if !f.UpdatedSince.IsZero() {
		since = f.UpdatedSince.UnixMicro()
	}
	// A consent filter: the people with that state, or — for "unknown" —
	// everybody but those with any recorded state.
	var only, not []string
	if cf := f.Consent; cf != nil {
		state := cf.State
		if state == tresor.ConsentUnknown {
			state = ""
		}
		ids, err := g.store.Read().ConsentContacts(ctx, cf.Purpose, cf.Channel, state)
		if err != nil {
			return search.Result{}, err
		}
		if cf.State == tresor.ConsentUnknown {
			not = ids
		} else {
			only = append([]string{}, ids...) // not nil: nobody with the state finds nobody
		}
	}
	// A tag or a creation range: the people the store finds with it.
	narrowed, ok, err := g.keepNarrowed(ctx, f)
	if err != nil {
		return search.Result{}, err
	}
	if ok && only == nil {
		only = append([]string{}, narrowed...)
	} else if ok {
		in := make(map[string]bool, len(narrowed))
		for _, id := range narrowed {
			in[id] = true
		}
		only = slices.DeleteFunc(only, func(id string) bool { return !in[id] })
	}
	exact, err := g.exactIDs(ctx, req, f.Query)
	if err != nil {
		return search.Result{}, err
	}
	by := map[string]search.Order{tresor.SortName: search.ByOrder, tresor.SortOrganization: search.ByOrder2,
		tresor.SortUpdated: search.ByUpdated}[f.Sort]
	return g.search.ix.Search(search.Query{Text: f.Query, By: by, Fields: fields, Offset: offset, Limit: limit, Exact: exact,
		Only: only, Not: not,
		Keep: func(m search.Meta) bool {
			return m.Flags&hide == 0 && (f.OwnerID == "" || m.Owner == f.OwnerID) &&
				(f.OrganizationID == "" || m.Org == f.OrganizationID) && m.Updated >= since
		}}), nil
}

// searchContacts finds contacts by the words of f.Query in the fields the
// purpose may see, or lists them in an order only the index knows (names
// are sealed).
func (g *Gate) searchContacts(ctx context.Context, req *request, f tresor.ContactFilter, limit int) (*tresor.List[*tresor.Contact], error) {
	offset, err := g.searchReady(ctx, f.Query, f.Page)
	if err != nil {
		return nil, err
	}
	res, err := g.contactHits(ctx, req, f, offset, limit)
	if err != nil {
		return nil, err
	}
	out := &tresor.List[*tresor.Contact]{Items: make([]*tresor.Contact, 0, len(res.Hits)), Total: res.Total, Counted: true}
	if offset+len(res.Hits) < res.Total {
		out.Next = tresor.OffsetCursor(offset + len(res.Hits))
	}
	ids := make([]string, len(res.Hits))
	for i, h := range res.Hits {
		ids[i] = h.ID
	}
	rows, err := g.store.Read().ContactsByID(ctx, ids)
	if err != nil {
		return nil, err
	}
	byID := make(map[string]*tresor.ContactRow, len(rows))
	for _, row := range rows {
		byID[row.ID] = row
	}
	for _, id := range ids {
		row, ok := byID[id]
		if !ok {
			continue // erased since the search
		}
		c, err := contacts.fromRow(ctx, g, row, req.pu.Allows)
		if err == nil {
			err = encodable(contacts.name, c)
		}
		if err != nil && !isDamaged(c) {
			return nil, err
		}
		if contacts.listed(ctx, g, req, c) != nil {
			continue // a suppressed identifier, or a state changed since the index saw it
		}
		out.Items = append(out.Items, contacts.shown(req, c))
	}
	var cats []tresor.Category
	for _, c := range out.Items {
		cats = mergeCategories(cats, shownCategories(c))
	}
	if f.Query == "" {
		return out, g.record(ctx, g.entry(ctx, "contact.list", "contact", idsOf(out.Items), cats, nil))
	}
	e := g.entry(ctx, "contact.search", "contact", idsOf(out.Items), cats, nil)
	e.Detail = fmt.Sprintf("query %s, %d found", g.queryHash(f.Query), res.Total)
	if err := g.record(ctx, e); err != nil {
		return nil, err
	}
	return out, nil
}
