package storetest

import (
	"slices"
	"testing"
	"time"

	"tresor"
)

var identityTests = []struct {
	name string
	fn   func(*testing.T, tresor.Store)
}{
	{"UserUpdate", testUserUpdate},
	{"UserVersion", testUserVersion},
	{"UserByExternal", testUserByExternal},
	{"TokenLifecycle", testTokenLifecycle},
	{"Sessions", testSessions},
	{"RecoveryCodes", testRecoveryCodes},
	{"LoginFailures", testLoginFailures},
	{"PasswordResets", testPasswordResets},
	{"Stats", testStats},
	{"RoleGrants", testRoleGrants},
	{"AuthEpoch", testAuthEpoch},
	{"ChangeFeed", testChangeFeed},
	{"PasswordFromAndResetIssuer", testPasswordFrom},
}

func testRoleGrants(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "kim@example.org")
	a := &tresor.RoleGrant{ID: newID(), UserID: u.ID, Roles: []tresor.Role{tresor.RoleSales, tresor.RolePR}, State: tresor.GrantPending,
		RequestedBy: "user:x", RequestedAt: epoch, ExpiresAt: epoch.Add(tresor.RoleGrantTTL)}
	b := &tresor.RoleGrant{ID: newID(), UserID: u.ID, Roles: []tresor.Role{tresor.RoleService}, State: tresor.GrantPending,
		RequestedBy: "user:x", RequestedAt: epoch, ExpiresAt: epoch.Add(tresor.RoleGrantTTL)}
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertRoleGrant(ctx, a); err != nil {
			return err
		}
		return tx.InsertRoleGrant(ctx, b)
	})
	got, err := s.Read().RoleGrant(ctx, a.ID)
	must(t, err)
	if !slices.Equal(got.Roles, a.Roles) || got.State != tresor.GrantPending || got.RequestedBy != "user:x" ||
		!got.ExpiresAt.Equal(a.ExpiresAt) || got.DecidedAt != nil {
		t.Fatalf("grant = %+v", got)
	}
	later := epoch.Add(time.Hour)
	var ok bool
	update(t, s, func(tx tresor.Tx) (err error) {
		ok, err = tx.DecideRoleGrant(ctx, a.ID, tresor.GrantApproved, "user:y", later)
		return err
	})
	if !ok {
		t.Fatal("a pending grant was not decided")
	}
	update(t, s, func(tx tresor.Tx) (err error) {
		ok, err = tx.DecideRoleGrant(ctx, a.ID, tresor.GrantRejected, "user:z", later)
		return err
	})
	if ok {
		t.Fatal("a decided grant was decided again")
	}
	pending, err := s.Read().RoleGrants(ctx, tresor.GrantPending, "")
	must(t, err)
	if len(pending) != 1 || pending[0].ID != b.ID {
		t.Fatalf("pending = %+v", pending)
	}
	all, err := s.Read().RoleGrants(ctx, "", u.ID)
	must(t, err)
	if len(all) != 2 || all[0].ID != b.ID { // newest first
		t.Fatalf("all = %+v", all)
	}
	if all[1].State != tresor.GrantApproved || all[1].DecidedBy != "user:y" || all[1].DecidedAt == nil || !all[1].DecidedAt.Equal(later) {
		t.Fatalf("decided = %+v", all[1])
	}
	_, err = s.Read().RoleGrant(ctx, newID())
	wantCode(t, err, tresor.ECNotFound)
}

func testAuthEpoch(t *testing.T, s tresor.Store) {
	before, err := s.Read().AuthEpoch(ctx)
	must(t, err)
	update(t, s, func(tx tresor.Tx) error { return tx.BumpAuthEpoch(ctx) })
	_ = s.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.BumpAuthEpoch(ctx); err != nil {
			return err
		}
		return tresor.Errorf(tresor.ECConflict, "roll back")
	})
	after, err := s.Read().AuthEpoch(ctx)
	must(t, err)
	if after != before+1 {
		t.Fatalf("epoch %d → %d, want one step (a rolled-back bump does not count)", before, after)
	}
}

func testChangeFeed(t *testing.T, s tresor.Store) {
	start, err := s.Read().LastChange(ctx)
	must(t, err)
	a := &tresor.Change{Origin: "p1", At: epoch, Contacts: []string{newID(), newID()}}
	b := &tresor.Change{Origin: "p2", At: epoch.Add(2 * time.Hour), Organizations: []string{newID()}}
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.NoteChange(ctx, a); err != nil {
			return err
		}
		return tx.NoteChange(ctx, b)
	})
	_ = s.Update(ctx, func(tx tresor.Tx) error {
		if err := tx.NoteChange(ctx, &tresor.Change{Origin: "p3", At: epoch, Contacts: []string{newID()}}); err != nil {
			return err
		}
		return tresor.Errorf(tresor.ECConflict, "roll back")
	})
	if a.Seq <= start || b.Seq <= a.Seq {
		t.Fatalf("seqs %d, %d after %d", a.Seq, b.Seq, start)
	}
	got, err := s.Read().Changes(ctx, start, 10)
	must(t, err)
	if len(got) != 2 || got[0].Seq != a.Seq || !slices.Equal(got[0].Contacts, a.Contacts) || got[0].Organizations != nil ||
		got[1].Origin != "p2" || !slices.Equal(got[1].Organizations, b.Organizations) || !got[1].At.Equal(b.At) {
		t.Fatalf("feed %+v %+v", got[0], got[len(got)-1])
	}
	if last, err := s.Read().LastChange(ctx); err != nil || last != b.Seq {
		t.Fatalf("last %d %v, want %d (a rolled-back entry does not count)", last, err, b.Seq)
	}
	var n int
	update(t, s, func(tx tresor.Tx) (err error) { n, err = tx.PruneChanges(ctx, epoch.Add(time.Hour)); return err })
	got, err = s.Read().Changes(ctx, start, 10)
	must(t, err)
	if n != 1 || len(got) != 1 || got[0].Seq != b.Seq {
		t.Fatalf("pruned %d, left %d", n, len(got))
	}
}

func testPasswordFrom(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "lea@example.org")
	u.PasswordFrom = "reset R issued by user:x"
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateUser(ctx, u, u.Version) })
	got, err := s.Read().User(ctx, u.ID)
	must(t, err)
	if got.PasswordFrom != u.PasswordFrom {
		t.Fatalf("PasswordFrom = %q", got.PasswordFrom)
	}
	r := &tresor.PasswordReset{Hash: []byte("reset-hash-from"), UserID: u.ID, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour),
		Ref: "ref-1", IssuedBy: "user:x"}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertPasswordReset(ctx, r) })
	gr, err := s.Read().PasswordReset(ctx, r.Hash)
	must(t, err)
	if gr.Ref != "ref-1" || gr.IssuedBy != "user:x" {
		t.Fatalf("reset = %+v", gr)
	}
}

func testUserUpdate(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "ada@example.org")
	later := epoch.Add(time.Hour)
	u.Roles = []tresor.Role{tresor.RoleService, tresor.RolePR}
	u.PasswordHash, u.TOTPSecret, u.TOTPLastStep, u.MFAEnabledAt, u.DisabledAt, u.UpdatedAt = "new", "SECRET", 42, &later, &later, later
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateUser(ctx, u, u.Version) })
	got, err := s.Read().User(ctx, u.ID)
	must(t, err)
	if !slices.Equal(got.Roles, u.Roles) || got.PasswordHash != "new" || got.TOTPSecret != "SECRET" || got.TOTPLastStep != 42 ||
		got.MFAEnabledAt == nil || !got.MFAEnabledAt.Equal(later) || got.DisabledAt == nil || !got.CreatedAt.Equal(epoch) {
		t.Fatalf("updated user = %+v", got)
	}
	ghost := *u
	ghost.ID = newID()
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateUser(ctx, &ghost, ghost.Version) }), tresor.ECNotFound)
	list, err := s.Read().Users(ctx, tresor.Page{Limit: 10})
	must(t, err)
	if len(list) != 1 || list[0].ID != u.ID {
		t.Fatalf("Users = %v", list)
	}
}

// testUserVersion: a user starts at version 1; a write keeps the version it
// read or moves it on by one; a write from an older version is refused
// (another hand changed the user meanwhile) and changes nothing.
func testUserVersion(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "ver@example.org")
	if u.Version != 1 {
		t.Fatalf("a new user has version %d", u.Version)
	}
	stale := *u
	u.Roles, u.Version = []tresor.Role{tresor.RoleService}, 2
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateUser(ctx, u, 1) })
	u.TOTPLastStep = 7 // a write that keeps the version
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateUser(ctx, u, 2) })
	got, err := s.Read().User(ctx, u.ID)
	must(t, err)
	if got.Version != 2 || got.TOTPLastStep != 7 {
		t.Fatalf("after two writes: version %d, step %d", got.Version, got.TOTPLastStep)
	}
	// Read at version 1 like the first change, written after it.
	stale.Roles, stale.Version = []tresor.Role{tresor.RolePR}, 2
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateUser(ctx, &stale, 1) }), tresor.ECVersionMismatch)
	got, err = s.Read().User(ctx, u.ID)
	must(t, err)
	if !slices.Equal(got.Roles, []tresor.Role{tresor.RoleService}) || got.Version != 2 {
		t.Fatalf("the stale write changed the user: %v, version %d", got.Roles, got.Version)
	}
	ghost := *u
	ghost.ID = newID()
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateUser(ctx, &ghost, 2) }), tresor.ECNotFound)
}

func testUserByExternal(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "sso@example.org")
	u.ExternalIssuer, u.ExternalSubject = "https://idp.example.org", "subject-1"
	update(t, s, func(tx tresor.Tx) error { return tx.UpdateUser(ctx, u, u.Version) })
	got, err := s.Read().UserByExternal(ctx, "https://idp.example.org", "subject-1")
	must(t, err)
	if got.ID != u.ID {
		t.Fatalf("UserByExternal = %s", got.ID)
	}
	_, err = s.Read().UserByExternal(ctx, "https://other.example.org", "subject-1")
	wantCode(t, err, tresor.ECNotFound)
	// One external identity belongs to one user.
	v := MustUser(t, s, "copy@example.org")
	v.ExternalIssuer, v.ExternalSubject = u.ExternalIssuer, u.ExternalSubject
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.UpdateUser(ctx, v, v.Version) }), tresor.ECConflict)
}

func testTokenLifecycle(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "ada@example.org")
	exp := epoch.Add(time.Hour)
	a := &tresor.Token{ID: newID(), UserID: u.ID, Name: "a", Purposes: []string{"sales", "service"}, Hash: []byte("hash-a"), CreatedAt: epoch, ExpiresAt: &exp}
	b := &tresor.Token{ID: newID(), UserID: u.ID, Name: "b", Purposes: []string{}, Hash: []byte("hash-b"), CreatedAt: epoch, ExpiresAt: &exp}
	update(t, s, func(tx tresor.Tx) error {
		if err := tx.InsertToken(ctx, a); err != nil {
			return err
		}
		return tx.InsertToken(ctx, b)
	})
	got, err := s.Read().Token(ctx, a.ID)
	must(t, err)
	if !slices.Equal(got.Purposes, []string{"sales", "service"}) {
		t.Fatalf("purposes = %v", got.Purposes)
	}
	used := epoch.Add(time.Minute)
	update(t, s, func(tx tresor.Tx) error { return tx.TouchToken(ctx, a.ID, used) })
	update(t, s, func(tx tresor.Tx) error { return tx.RevokeToken(ctx, b.ID, used) })
	wantCode(t, s.Update(ctx, func(tx tresor.Tx) error { return tx.RevokeToken(ctx, b.ID, used) }), tresor.ECNotFound)
	list, err := s.Read().TokensOf(ctx, u.ID)
	must(t, err)
	if len(list) != 2 || list[0].ID != b.ID || list[0].RevokedAt == nil || list[1].LastUsedAt == nil || !list[1].LastUsedAt.Equal(used) {
		t.Fatalf("tokens = %+v %+v", list[0], list[1])
	}
}

func testSessions(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "ada@example.org")
	a := &tresor.Session{ID: newID(), Hash: []byte("session-a"), UserID: u.ID, Stage: tresor.StageMFA, CSRF: "csrf-a", CreatedAt: epoch, LastSeenAt: epoch}
	b := &tresor.Session{ID: newID(), Hash: []byte("session-b"), UserID: u.ID, Stage: tresor.StageFull, CSRF: "csrf-b", MFA: true, CreatedAt: epoch, LastSeenAt: epoch}
	c := &tresor.Session{ID: newID(), Hash: []byte("session-c"), UserID: u.ID, Stage: tresor.StageFull, CSRF: "csrf-c", CreatedAt: epoch, LastSeenAt: epoch}
	update(t, s, func(tx tresor.Tx) error {
		for _, x := range []*tresor.Session{a, b, c} {
			if err := tx.InsertSession(ctx, x); err != nil {
				return err
			}
		}
		return nil
	})
	got, err := s.Read().SessionByHash(ctx, []byte("session-b"))
	must(t, err)
	if got.ID != b.ID || got.Stage != tresor.StageFull || !got.MFA || got.CSRF != "csrf-b" || !got.CreatedAt.Equal(epoch) {
		t.Fatalf("session = %+v", got)
	}
	seen := epoch.Add(5 * time.Minute)
	update(t, s, func(tx tresor.Tx) error { return tx.TouchSession(ctx, b.ID, seen) })
	got, _ = s.Read().SessionByHash(ctx, []byte("session-b"))
	if !got.LastSeenAt.Equal(seen) {
		t.Fatalf("last seen = %v", got.LastSeenAt)
	}
	var n int
	update(t, s, func(tx tresor.Tx) (err error) { n, err = tx.DeleteSessions(ctx, u.ID, b.ID); return })
	if n != 2 {
		t.Fatalf("DeleteSessions ended %d sessions, want 2", n)
	}
	if _, err := s.Read().SessionByHash(ctx, []byte("session-b")); err != nil {
		t.Fatalf("the kept session is gone: %v", err)
	}
	_, err = s.Read().SessionByHash(ctx, []byte("session-a"))
	wantCode(t, err, tresor.ECNotFound)
	update(t, s, func(tx tresor.Tx) error { return tx.DeleteSession(ctx, b.ID) })
	_, err = s.Read().SessionByHash(ctx, []byte("session-b"))
	wantCode(t, err, tresor.ECNotFound)
}

func testRecoveryCodes(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "ada@example.org")
	update(t, s, func(tx tresor.Tx) error {
		return tx.ReplaceRecoveryCodes(ctx, u.ID, [][]byte{[]byte("c1"), []byte("c2")})
	})
	use := func(code string) bool {
		var ok bool
		update(t, s, func(tx tresor.Tx) (err error) { ok, err = tx.UseRecoveryCode(ctx, u.ID, []byte(code), epoch); return })
		return ok
	}
	if !use("c1") || use("c1") || use("c3") {
		t.Fatal("a recovery code is not single-use")
	}
	update(t, s, func(tx tresor.Tx) error { return tx.ReplaceRecoveryCodes(ctx, u.ID, [][]byte{[]byte("c9")}) })
	if use("c2") || !use("c9") {
		t.Fatal("replaced recovery codes still work, or new ones do not")
	}
}

func testLoginFailures(t *testing.T, s tresor.Store) {
	n, _, err := s.Read().LoginFailures(ctx, "account:x")
	must(t, err)
	if n != 0 {
		t.Fatalf("failures of a new key = %d", n)
	}
	for i := 0; i < 3; i++ {
		at := epoch.Add(time.Duration(i) * time.Second)
		update(t, s, func(tx tresor.Tx) error { return tx.AddLoginFailure(ctx, "account:x", at, at.Add(-24*time.Hour)) })
	}
	n, last, err := s.Read().LoginFailures(ctx, "account:x")
	must(t, err)
	if n != 3 || !last.Equal(epoch.Add(2*time.Second)) {
		t.Fatalf("failures = %d at %v", n, last)
	}
	// After a quiet day the count starts again.
	later := epoch.Add(48 * time.Hour)
	update(t, s, func(tx tresor.Tx) error { return tx.AddLoginFailure(ctx, "account:x", later, later.Add(-24*time.Hour)) })
	if n, _, _ = s.Read().LoginFailures(ctx, "account:x"); n != 1 {
		t.Fatalf("failures after a quiet day = %d, want 1", n)
	}
	update(t, s, func(tx tresor.Tx) error { return tx.ClearLoginFailures(ctx, "account:x") })
	if n, _, _ = s.Read().LoginFailures(ctx, "account:x"); n != 0 {
		t.Fatalf("failures after clearing = %d", n)
	}
}

func testPasswordResets(t *testing.T, s tresor.Store) {
	u := MustUser(t, s, "ada@example.org")
	r := &tresor.PasswordReset{Hash: []byte("reset"), UserID: u.ID, CreatedAt: epoch, ExpiresAt: epoch.Add(time.Hour)}
	update(t, s, func(tx tresor.Tx) error { return tx.InsertPasswordReset(ctx, r) })
	got, err := s.Read().PasswordReset(ctx, []byte("reset"))
	must(t, err)
	if got.UserID != u.ID || !got.ExpiresAt.Equal(r.ExpiresAt) || got.UsedAt != nil {
		t.Fatalf("reset = %+v", got)
	}
	use := func(at time.Time) bool {
		var ok bool
		update(t, s, func(tx tresor.Tx) (err error) { ok, err = tx.UsePasswordReset(ctx, []byte("reset"), at); return })
		return ok
	}
	if use(epoch.Add(2 * time.Hour)) {
		t.Fatal("an expired link was used")
	}
	if !use(epoch.Add(time.Minute)) || use(epoch.Add(2*time.Minute)) {
		t.Fatal("a reset link is not single-use")
	}
}

func testStats(t *testing.T, s tresor.Store) {
	MustUser(t, s, "ada@example.org")
	insertContacts(t, s, contactRow("", "a@example.org"), contactRow("", "b@example.org"))
	st, err := s.Read().Stats(ctx)
	must(t, err)
	if *st != (tresor.Stats{Contacts: 2, Users: 1}) {
		t.Fatalf("stats = %+v", st)
	}
}
