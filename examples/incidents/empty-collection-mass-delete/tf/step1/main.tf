# One application per tenant repository, generated from an SCM API's answer.
variable "repositories" {
  type    = list(string)
  default = ["billing", "search", "auth", "checkout", "catalog", "reviews", "inventory", "shipping", "payments", "notifications", "ledger", "profiles", "media", "analytics", "gateway", "pricing", "loyalty", "support", "reports", "exports", "imports", "webhooks", "scheduler", "audit", "mailer", "sms", "geo", "ads", "feeds", "graph"]
}
resource "terraform_data" "application" {
  for_each = toset(var.repositories)
  input = { type = "kubernetes_manifest", values = { manifest = { kind = "Application", metadata = { name = each.key, namespace = "argocd-apps" } }, metadata = [{ name = each.key, namespace = "apps", labels = { env = "production" } }] } }
}
