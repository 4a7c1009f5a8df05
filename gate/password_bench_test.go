package gate_test

import (
	"testing"

	"tresor/gate"
)

// BenchmarkPasswordVerify is the argon2id cost of one sign-in (19 MiB, 2
// passes, 1 lane): ms/op is the time a correct or wrong password costs.
func BenchmarkPasswordVerify(b *testing.B) {
	h, err := gate.HashPassword("correct horse battery staple")
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if !gate.VerifyPassword(h, "correct horse battery staple") {
			b.Fatal("no match")
		}
	}
	b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/login")
}
