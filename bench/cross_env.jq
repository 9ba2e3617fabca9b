# The cross-env-destroy rule in jq, for the benchmark: managed deletes and replacements whose
# env tag (tags_all, tags, labels, Kubernetes metadata labels) names another environment.
def norm: ascii_downcase
  | if . == "stg" or . == "stage" then "staging"
    elif . == "prod" or . == "prd" or . == "live" then "production"
    elif . == "dev" then "development"
    elif . == "qa" or . == "testing" then "test"
    elif . == "sbx" then "sandbox"
    else . end;
def tagenv: if type == "object" then (.env // .environment // .Environment // .Env // .stage) else null end;
.resource_changes[]
| select((.mode // "managed") == "managed" and (.change.actions | index("delete")))
| .change.before as $b
| ([($b.tags_all | tagenv), ($b.tags | tagenv), ($b.labels | tagenv),
    (($b.metadata // [])[]? | .labels | tagenv)] | map(select(. != null)) | first) as $e
| select($e != null and ($e | norm) != $project_env)
| "\(.address) \($e)"
