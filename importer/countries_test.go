package importer

import (
	"os"
	"strings"
	"testing"
)

func TestCountryCode(t *testing.T) {
	t.Run("German and English names map to ISO 3166-1 alpha-2 codes", func(t *testing.T) {
		for name, want := range map[string]string{
			"Deutschland": "DE", "Germany": "DE", "BRD": "DE", "Federal Republic of Germany": "DE", "Bundesrepublik Deutschland": "DE",
			"Österreich": "AT", "Oesterreich": "AT", "Austria": "AT",
			"Schweiz": "CH", "Switzerland": "CH", "Suisse": "CH", "Svizzera": "CH",
			"Niederlande": "NL", "Netherlands": "NL", "Holland": "NL", "The Netherlands": "NL",
			"Vereinigtes Königreich": "GB", "United Kingdom": "GB", "Great Britain": "GB", "Großbritannien": "GB",
			"Vereinigte Staaten": "US", "United States of America": "US", "U.S.A.": "US",
			"Türkei": "TR", "Turkey": "TR", "Türkiye": "TR",
			"Frankreich": "FR", "Polen": "PL", "Tschechien": "CZ", "Dänemark": "DK", "Norwegen": "NO", "Liechtenstein": "LI",
		} {
			if got, ok := CountryCode(name); !ok || got != want {
				t.Errorf("CountryCode(%q) = %q, %v; want %q", name, got, ok, want)
			}
		}
	})
	t.Run("names are read case- and accent-insensitively", func(t *testing.T) {
		for _, name := range []string{"deutschland", "DEUTSCHLAND", "  Deutschland ", "ÖSTERREICH", "osterreich", "vereinigtes konigreich", "Bosnien-Herzegowina"} {
			if _, ok := CountryCode(name); !ok {
				t.Errorf("CountryCode(%q) does not know the country", name)
			}
		}
	})
	t.Run("a two-letter code passes through upper-cased, UK as GB", func(t *testing.T) {
		for in, want := range map[string]string{"de": "DE", "At": "AT", "CH": "CH", "uk": "GB", "UK": "GB", "xk": "XK"} {
			if got, ok := CountryCode(in); !ok || got != want {
				t.Errorf("CountryCode(%q) = %q, %v; want %q", in, got, ok, want)
			}
		}
	})
	t.Run("an unknown name is not a country", func(t *testing.T) {
		for _, name := range []string{"Atlantis", "", "D", "Deutschlandd", "12"} {
			if got, ok := CountryCode(name); ok {
				t.Errorf("CountryCode(%q) = %q; want unknown", name, got)
			}
		}
	})
}

func TestAddressCountries(t *testing.T) {
	t.Run("a XING vCard's country name is read as its ISO code", func(t *testing.T) {
		f, err := os.Open("testdata/xing.vcf")
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		r, err := Open(VCard, f, Options{})
		if err != nil {
			t.Fatal(err)
		}
		items := readAll(t, r)
		if len(items) != 1 || items[0].rec == nil || items[0].rec.Address == nil {
			t.Fatalf("got %v; want one record with an address", items)
		}
		want := Address{Street: "Musterstraße 1", PostalCode: "10115", City: "Berlin", Country: "DE"}
		if got := *items[0].rec.Address; got != want {
			t.Errorf("address = %+v; want %+v", got, want)
		}
	})
	t.Run("a vCard's unknown country is kept as found for the gate to judge", func(t *testing.T) {
		r, err := Open(VCard, strings.NewReader("BEGIN:VCARD\r\nVERSION:3.0\r\nFN:A B\r\nADR:;;Weg 2;Poseidonis;;12345;Atlantis\r\nEND:VCARD\r\n"), Options{})
		if err != nil {
			t.Fatal(err)
		}
		items := readAll(t, r)
		if len(items) != 1 || items[0].rec == nil || items[0].rec.Address == nil || items[0].rec.Address.Country != "Atlantis" {
			t.Fatalf("got %v; want the address with the country Atlantis", items)
		}
	})
	t.Run("a mapped CSV country column is read as its ISO code", func(t *testing.T) {
		m, err := ParseMapping(strings.NewReader(`{"columns": {"family_name": "Name", "country": "Land", "city": "Ort"}}`))
		if err != nil {
			t.Fatal(err)
		}
		r, err := Open(CSV, strings.NewReader("Name;Land;Ort\nMuster;Österreich;Wien\n"), Options{Mapping: m})
		if err != nil {
			t.Fatal(err)
		}
		items := readAll(t, r)
		if len(items) != 1 || items[0].rec == nil || items[0].rec.Address == nil || items[0].rec.Address.Country != "AT" {
			t.Fatalf("got %v; want the address with the country AT", items)
		}
	})
}
