package policy

import (
	"testing"

	"tresor"
)

func TestObjectionToLegitimateInterest(t *testing.T) {
	p := Default()
	sales, _ := p.Purpose("sales")
	analytics, _ := p.Purpose("analytics")
	dp, _ := p.Purpose("data_protection")
	marketing, _ := p.Purpose("marketing")
	li := []tresor.ProvenanceRecord{{Purpose: "sales", Collection: tresor.Collection{LegalBasis: tresor.BasisLegitimateInterest}}}
	contract := append(li, tresor.ProvenanceRecord{Purpose: "sales", Collection: tresor.Collection{LegalBasis: tresor.BasisContract}})

	t.Run("a purpose whose data rests on legitimate interest stops for an objected person", func(t *testing.T) {
		err := CheckInterestObjection(sales, li, true, false)
		if tresor.ErrorCode(err) != tresor.ECObjectedInterest {
			t.Fatalf("err = %v", err)
		}
		var e *tresor.Error
		if !asError(err, &e) || e.MessageDE == "" {
			t.Fatalf("the refusal lacks its German text: %v", err)
		}
		if CheckInterestObjection(analytics, nil, true, false) == nil {
			t.Error("analytics rests only on legitimate interest and must stop")
		}
	})
	t.Run("data collected on another basis is not stopped", func(t *testing.T) {
		if err := CheckInterestObjection(sales, contract, true, false); err != nil {
			t.Errorf("contract: %v", err)
		}
		if err := CheckInterestObjection(dp, nil, true, false); err != nil {
			t.Errorf("data protection: %v", err)
		}
	})
	t.Run("compelling grounds re-allow the purpose", func(t *testing.T) {
		if err := CheckInterestObjection(sales, li, true, true); err != nil {
			t.Error(err)
		}
	})
	t.Run("without an objection nothing stops", func(t *testing.T) {
		if err := CheckInterestObjection(sales, li, false, false); err != nil {
			t.Error(err)
		}
	})
	t.Run("direct marketing is the purpose that hides objected people", func(t *testing.T) {
		if !marketing.DirectMarketing() || sales.DirectMarketing() {
			t.Error("marketing is direct marketing, sales is not")
		}
	})
}

func asError(err error, e **tresor.Error) bool {
	v, ok := err.(*tresor.Error)
	*e = v
	return ok
}
