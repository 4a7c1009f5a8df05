package gate_test

import (
	"slices"
	"testing"
	"time"

	"tresor"
	"tresor/gate"
)

func dayOffset(days int) tresor.Date {
	return tresor.Date(time.Now().UTC().AddDate(0, 0, days).Format(time.DateOnly))
}

func TestRequestRules(t *testing.T) {
	backends(t, func(t *testing.T, g *gate.Gate) {
		dpo := as(t, g, "dpo@example.org", "data_protection", tresor.RoleDPO)
		admin := as(t, g, "admin@example.org", "data_protection", tresor.RoleAdmin)
		sales := as(t, g, "sales@example.org", "sales", tresor.RoleSales)
		newReq := func(received tresor.Date) tresor.NewRequest {
			return tresor.NewRequest{Kind: tresor.RequestAccess, Channel: tresor.ArrivedByEmail,
				Address: "erika@example.org", ReceivedAt: received}
		}

		t.Run("a new request is received and due one month after it arrived", func(t *testing.T) {
			r, err := g.CreateRequest(dpo, newReq("2026-01-31"))
			must(t, err)
			if r.State != tresor.RequestReceived || r.Due != "2026-02-28" || r.Address != "erika@example.org" ||
				len(r.History) != 1 || r.History[0].State != tresor.RequestReceived {
				t.Fatalf("request = %+v", r)
			}
			got, err := g.DataRequest(dpo, r.ID)
			must(t, err)
			if got.Address != "erika@example.org" || got.Due != "2026-02-28" || got.Damaged {
				t.Errorf("read back = %+v", got)
			}
			if a := auditActions(t, g, r.ID); !slices.Equal(a, []string{"request.create", "request.read"}) {
				t.Errorf("audit = %v", a)
			}
		})

		t.Run("a day that has begun somewhere is not in the future; the day after it is", func(t *testing.T) {
			// Late in the UTC evening it is already tomorrow in Berlin (and
			// further east): that day is accepted. Two days ahead is not.
			tomorrowEast := tresor.Date(time.Now().UTC().Add(14 * time.Hour).Format(time.DateOnly))
			_, err := g.CreateRequest(dpo, newReq(tomorrowEast))
			must(t, err)
			after, _ := time.Parse(time.DateOnly, string(tomorrowEast))
			_, err = g.CreateRequest(dpo, newReq(tresor.Date(after.AddDate(0, 0, 1).Format(time.DateOnly))))
			wantCode(t, err, tresor.ECValidation)
		})

		t.Run("only the data_protection purpose reaches the register", func(t *testing.T) {
			_, err := g.CreateRequest(sales, newReq("2026-01-31"))
			wantCode(t, err, tresor.ECForbidden)
			_, err = g.DataRequests(sales, tresor.RequestFilter{})
			wantCode(t, err, tresor.ECForbidden)
		})

		t.Run("an administrator without the DPO role is refused", func(t *testing.T) {
			_, err := g.DataRequests(admin, tresor.RequestFilter{})
			wantCode(t, err, tresor.ECPurposeNotAllowed)
			both := tresor.WithPurpose(tresor.WithActor(bg, &tresor.Actor{Kind: tresor.ActorUser, UserID: "x",
				Roles: []tresor.Role{tresor.RoleAdmin, tresor.RoleDPO}}), "data_protection")
			_, err = g.DataRequests(both, tresor.RequestFilter{})
			wantCode(t, err, tresor.ECSeparationOfDuties)
		})

		t.Run("bad input is refused with the field named", func(t *testing.T) {
			n := newReq("2026-01-31")
			n.Kind = "complaint"
			_, err := g.CreateRequest(dpo, n)
			wantCode(t, err, tresor.ECValidation)
			n = newReq(dayOffset(3))
			_, err = g.CreateRequest(dpo, n)
			wantCode(t, err, tresor.ECValidation)
			n = newReq("2026-01-31")
			n.Address = ""
			_, err = g.CreateRequest(dpo, n)
			wantCode(t, err, tresor.ECValidation)
			n = newReq("2026-01-31")
			n.ContactIDs = []string{"0190e0e0-0000-7000-8000-000000000000"}
			_, err = g.CreateRequest(dpo, n)
			wantCode(t, err, tresor.ECInvalidReference)
		})

		t.Run("states move forward only; a refusal needs its reason", func(t *testing.T) {
			r, err := g.CreateRequest(dpo, newReq("2026-02-01"))
			must(t, err)
			_, err = g.RequestState(dpo, r.ID, tresor.RequestAnswered, "")
			wantCode(t, err, tresor.ECConflict)
			_, err = g.RequestState(dpo, r.ID, tresor.RequestExtended, "")
			wantCode(t, err, tresor.ECValidation)
			_, err = g.RequestState(dpo, r.ID, tresor.RequestRefused, " ")
			wantCode(t, err, tresor.ECValidation)
			r, err = g.RequestState(dpo, r.ID, tresor.RequestIdentityVerified, "")
			must(t, err)
			r, err = g.RequestState(dpo, r.ID, tresor.RequestRefused, "manifestly unfounded, Art. 12(5)")
			must(t, err)
			if r.State != tresor.RequestRefused || r.Reason != "manifestly unfounded, Art. 12(5)" || len(r.History) != 3 ||
				r.History[2].Reason != r.Reason || r.Version != 3 {
				t.Fatalf("refused = %+v", r)
			}
			_, err = g.RequestState(dpo, r.ID, tresor.RequestInProgress, "")
			wantCode(t, err, tresor.ECConflict)
			if a := auditActions(t, g, r.ID); !slices.Equal(a, []string{"request.create", "request.state", "request.state"}) {
				t.Errorf("audit = %v", a)
			}
		})

		t.Run("an extension adds two months once, with its reason", func(t *testing.T) {
			r, err := g.CreateRequest(dpo, newReq("2026-01-31"))
			must(t, err)
			_, err = g.ExtendRequest(dpo, r.ID, "")
			wantCode(t, err, tresor.ECValidation)
			r, err = g.ExtendRequest(dpo, r.ID, "many requests this month; complex export")
			must(t, err)
			if r.State != tresor.RequestExtended || !r.Extended || r.Due != "2026-04-28" ||
				r.ExtensionReason != "many requests this month; complex export" {
				t.Fatalf("extended = %+v", r)
			}
			_, err = g.ExtendRequest(dpo, r.ID, "again")
			wantCode(t, err, tresor.ECConflict)
			r, err = g.RequestState(dpo, r.ID, tresor.RequestAnswered, "")
			must(t, err)
			if !r.Extended || r.Due != "2026-04-28" {
				t.Errorf("answered after extension = %+v", r)
			}
			if a := auditActions(t, g, r.ID); !slices.Equal(a, []string{"request.create", "request.extend", "request.state"}) {
				t.Errorf("audit = %v", a)
			}
		})

		t.Run("open and overdue lists, by deadline", func(t *testing.T) {
			late, err := g.CreateRequest(dpo, newReq(dayOffset(-40)))
			must(t, err)
			fresh, err := g.CreateRequest(dpo, newReq(dayOffset(-1)))
			must(t, err)
			over, err := g.DataRequests(dpo, tresor.RequestFilter{States: gate.OpenRequestStates(), DueBefore: dayOffset(0)})
			must(t, err)
			var overIDs []string
			for _, r := range over.Items {
				overIDs = append(overIDs, r.ID)
				if !r.Overdue(dayOffset(0)) {
					t.Errorf("listed as overdue: %+v", r)
				}
			}
			if !slices.Contains(overIDs, late.ID) || slices.Contains(overIDs, fresh.ID) {
				t.Errorf("overdue = %v", overIDs)
			}
			open, err := g.DataRequests(dpo, tresor.RequestFilter{States: gate.OpenRequestStates()})
			must(t, err)
			for i, r := range open.Items {
				if !r.State.Open() || (i > 0 && open.Items[i-1].Due > r.Due) {
					t.Errorf("open list out of order or with a closed request at %d: %+v", i, r)
				}
			}
			_, err = g.DataRequests(dpo, tresor.RequestFilter{States: []tresor.RequestState{"pending"}})
			wantCode(t, err, tresor.ECInvalidParameter)
		})
	})
}
