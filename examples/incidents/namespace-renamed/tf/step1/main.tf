# Rendered without an explicit namespace, the object took the CD tool's own namespace name.
resource "terraform_data" "namespace" {
  triggers_replace = ["argocd"]
  input = { type = "kubernetes_namespace_v1", values = { _forces = "metadata.0.name", metadata = [{ name = "argocd", labels = { team = "data" } }] } }
}
