package policy_test

import (
	"testing"

	"tresor"
	"tresor/policy"
)

func TestPermit(t *testing.T) {
	p := policy.Default()
	actor := func(roles ...tresor.Role) *tresor.Actor {
		return &tresor.Actor{Kind: tresor.ActorUser, UserID: "u", Roles: roles}
	}
	for _, tc := range []struct {
		name    string
		actor   *tresor.Actor
		purpose string
		want    tresor.Code
	}{
		{"sales for sales", actor(tresor.RoleSales), "sales", ""},
		{"marketing for marketing", actor(tresor.RoleMarketing), "marketing", ""},
		{"service for service", actor(tresor.RoleService), "service", ""},
		{"pr for pr", actor(tresor.RolePR), "pr", ""},
		{"analyst for analytics", actor(tresor.RoleAnalyst), "analytics", ""},
		{"two roles, second purpose", actor(tresor.RoleSales, tresor.RoleService), "service", ""},
		{"sales for marketing", actor(tresor.RoleSales), "marketing", tresor.ECPurposeNotAllowed},
		{"admin for sales", actor(tresor.RoleAdmin), "sales", tresor.ECPurposeNotAllowed},
		{"dpo for sales", actor(tresor.RoleDPO), "sales", tresor.ECPurposeNotAllowed},
		{"dpo for data protection", actor(tresor.RoleDPO), "data_protection", ""},
		{"auditor for service", actor(tresor.RoleAuditor), "service", tresor.ECPurposeNotAllowed},
		{"no purpose", actor(tresor.RoleSales), "", tresor.ECPurposeMissing},
		{"unknown purpose", actor(tresor.RoleSales), "profiling", tresor.ECPurposeUnknown},
		{"case matters", actor(tresor.RoleSales), "Sales", tresor.ECPurposeUnknown},
		{"system, any known purpose", &tresor.Actor{Kind: tresor.ActorSystem}, "marketing", ""},
		{"system, unknown purpose", &tresor.Actor{Kind: tresor.ActorSystem}, "profiling", tresor.ECPurposeUnknown},
	} {
		_, err := p.Permit(tc.actor, tc.purpose)
		if got := tresor.ErrorCode(err); got != tc.want {
			t.Errorf("%s: %q, want %q", tc.name, got, tc.want)
		}
	}
}

func TestEveryPurposeIsExplainedInBothLanguages(t *testing.T) {
	for _, pu := range policy.Default().Purposes {
		if pu.NameDE == "" || pu.NameEN == "" || pu.DescriptionDE == "" || pu.DescriptionEN == "" {
			t.Errorf("purpose %s lacks a German or English name or description", pu.ID)
		}
	}
}

func TestRefusalNamesTheAllowedPurposes(t *testing.T) {
	_, err := policy.Default().Permit(&tresor.Actor{Kind: tresor.ActorUser, Roles: []tresor.Role{tresor.RoleSales, tresor.RolePR}}, "marketing")
	if msg := tresor.ErrorMessage(err); msg != `Your roles do not allow the purpose "marketing"; they allow sales, pr.` {
		t.Fatalf("message = %q", msg)
	}
}
