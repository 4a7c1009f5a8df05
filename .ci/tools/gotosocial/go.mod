module tresor.invalid/tools/gotosocial

go 1.23.0

require github.com/superseriousbusiness/gotosocial v0.18.3

replace github.com/go-swagger/go-swagger => github.com/superseriousbusiness/go-swagger v0.31.0-gts-go1.23-fix

replace modernc.org/sqlite => gitlab.com/NyaaaWhatsUpDoc/sqlite v1.35.0-concurrency-workaround
