package gate

import (
	"fmt"
	"math"
	"testing"
)

// The bounds below are many standard errors wide (10 or more), so that the
// test never fails by chance while a wrong distribution still fails it.
func TestListeningDPNoise(t *testing.T) {
	const n = 200_000
	for _, scale := range []float64{2, 8} {
		noise := newDPNoise(1)
		draws := make([]float64, n)
		for i := range draws {
			draws[i] = float64(noise.draw(scale))
		}
		if noise.err != nil {
			t.Fatal(noise.err)
		}
		a := math.Exp(-1 / scale)
		wantVar := 2 * a / ((1 - a) * (1 - a))
		wantAbs := 2 * a / (1 - a*a)
		var sum, abs, sq float64
		zeros := 0
		for _, x := range draws {
			sum += x
			abs += math.Abs(x)
			sq += x * x
			if x == 0 {
				zeros++
			}
		}
		mean, meanAbs, variance := sum/n, abs/n, sq/n
		sd := math.Sqrt(wantVar / n)
		t.Run(fmt.Sprintf("the noise has mean 0 (scale %v)", scale), func(t *testing.T) {
			if math.Abs(mean) > 10*sd {
				t.Errorf("scale %v: mean %v, want 0 ± %v", scale, mean, 10*sd)
			}
		})
		t.Run(fmt.Sprintf("the noise has the scale asked for (scale %v)", scale), func(t *testing.T) {
			// E|X| of discrete Laplace is close to the scale (1.92 for 2, 7.98 for 8).
			if math.Abs(meanAbs-wantAbs) > 10*math.Sqrt(wantVar/n) || math.Abs(meanAbs-scale) > 0.1*scale {
				t.Errorf("scale %v: mean |x| %v, want %v", scale, meanAbs, wantAbs)
			}
			if math.Abs(variance-wantVar) > 0.05*wantVar {
				t.Errorf("scale %v: variance %v, want %v", scale, variance, wantVar)
			}
		})
		t.Run(fmt.Sprintf("zero is drawn as often as discrete Laplace says (scale %v)", scale), func(t *testing.T) {
			p := (1 - a) / (1 + a)
			if got := float64(zeros) / n; math.Abs(got-p) > 10*math.Sqrt(p*(1-p)/n) {
				t.Errorf("scale %v: P(0) = %v, want %v", scale, got, p)
			}
		})
	}
}

func TestListeningDPNoisyFiguresAreNeverNegative(t *testing.T) {
	noise := newDPNoise(0.1) // scales 40 and 1600: most draws of a small count go below 0
	for v := range 5 {
		for range 2000 {
			if x := noise.noisy(v, noise.bucketScale); x < 0 {
				t.Fatalf("noisy(%d) = %d", v, x)
			}
		}
	}
}
