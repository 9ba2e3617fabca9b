# During SCM maintenance the API answered an HTML page with status 200: read as zero repositories.
variable "repositories" {
  type    = list(string)
  default = []
}
resource "terraform_data" "application" {
  for_each = toset(var.repositories)
  input = { type = "kubernetes_manifest", values = { manifest = { kind = "Application", metadata = { name = each.key, namespace = "argocd-apps" } }, metadata = [{ name = each.key, namespace = "apps", labels = { env = "production" } }] } }
}
