package vault

import (
	"os"
)

// WriteNewFile creates path exclusively (mode 0600) with data and syncs it:
// two processes that create the same key file at once cannot both succeed.
func WriteNewFile(path string, data []byte) error {
	return writeSynced(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, data)
}

// AppendFile appends data to path (created with mode 0600) and syncs it.
func AppendFile(path string, data []byte) error {
	return writeSynced(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, data)
}

func writeSynced(path string, flag int, data []byte) error {
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return err
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		return err
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}
