package main

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"time"
)

// apiAnswer is what the fault and cluster tests read of an answer of the
// API: the status, a problem's code and detail, a created object's id.
type apiAnswer struct {
	Status       int
	Code, Detail string
	ID           string
	Err          error // no answer at all
}

// apiClient waits long enough that a hanging server shows as an error of
// the test, not as a test that never ends.
var apiClient = &http.Client{Timeout: 60 * time.Second}

// callAPI sends one request with the token under the purpose sales, body
// (if any) as JSON.
func callAPI(method, url, token string, body any) apiAnswer {
	var rd io.Reader
	if body != nil {
		b, _ := json.Marshal(body)
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, url, rd)
	if err != nil {
		return apiAnswer{Err: err}
	}
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Set("Tresor-Purpose", "sales")
	req.Header.Set("Content-Type", "application/json")
	res, err := apiClient.Do(req)
	if err != nil {
		return apiAnswer{Err: err}
	}
	defer res.Body.Close()
	var v struct{ Code, Detail, ID string }
	_ = json.NewDecoder(res.Body).Decode(&v)
	return apiAnswer{Status: res.StatusCode, Code: v.Code, Detail: v.Detail, ID: v.ID}
}
