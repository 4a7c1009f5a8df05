package server

import (
	"net/http"

	"tresor"
)

// breachNotifyRoutes mail the notice of a breach to the people it concerns
// (Art. 34); the gate admits only the DPO.
func (s *Server) breachNotifyRoutes() []route {
	return []route{{"POST", "/api/v1/breaches/{id}/notify-people", Purpose, s.notifyBreachPeople}}
}

func (s *Server) notifyBreachPeople(w http.ResponseWriter, r *http.Request) error {
	svc, ok := s.breaches().(tresor.BreachNotifier)
	if !ok {
		return noBreaches()
	}
	var in tresor.BreachPeopleNotice
	if err := decodeBody(r, &in, "application/json"); err != nil {
		return err
	}
	out, err := svc.NotifyBreachPeople(r.Context(), r.PathValue("id"), in)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, out)
}
