//! `stateful-replace`: a replacement of a resource that holds state (data, identity, members).

use super::{Context, Rule};
use crate::input::policy::glob;
use crate::model::finding::{Finding, RuleId, WayOut};
use crate::model::level::Level;
use crate::model::policy::Policy;

pub struct StatefulReplace;

/// The stateful types in force: [`STATEFUL_TYPES`] and the policy's `stateful-types`. Shared
/// by `stateful-replace` and `stateful-destroy`. A plan has few distinct types and, on a mass
/// destroy, tens of thousands of resources: each type is matched against the globs once.
pub struct StatefulTypes {
    globs: Vec<globset::GlobMatcher>,
    seen: std::cell::RefCell<std::collections::HashMap<String, bool>>,
}

impl StatefulTypes {
    pub fn of(policy: &Policy) -> StatefulTypes {
        let patterns = STATEFUL_TYPES
            .iter()
            .copied()
            .chain(policy.extra_stateful_types.iter().map(String::as_str));
        StatefulTypes {
            globs: patterns.filter_map(|t| glob(t).ok()).collect(),
            seen: Default::default(),
        }
    }

    pub fn matches(&self, resource_type: &str) -> bool {
        if let Some(&known) = self.seen.borrow().get(resource_type) {
            return known;
        }
        let stateful = self.globs.iter().any(|g| g.is_match(resource_type));
        self.seen
            .borrow_mut()
            .insert(resource_type.to_string(), stateful);
        stateful
    }
}

/// Resource types whose replacement loses data or identity. Globs; a policy's `stateful-types`
/// adds to them.
pub const STATEFUL_TYPES: &[&str] = &[
    // AWS
    "aws_db_instance",
    "aws_rds_cluster",
    "aws_rds_cluster_instance",
    "aws_rds_global_cluster",
    "aws_dynamodb_table",
    "aws_dynamodb_global_table",
    "aws_s3_bucket",
    "aws_ebs_volume",
    "aws_efs_file_system",
    "aws_fsx_*_file_system",
    "aws_elasticache_cluster",
    "aws_elasticache_replication_group",
    "aws_memorydb_cluster",
    "aws_eks_cluster",
    "aws_ecs_cluster",
    "aws_msk_cluster",
    "aws_kinesis_stream",
    "aws_kinesis_firehose_delivery_stream",
    "aws_sqs_queue",
    "aws_sns_topic",
    "aws_mq_broker",
    "aws_kms_key",
    "aws_route53_zone",
    "aws_redshift_cluster",
    "aws_docdb_cluster",
    "aws_neptune_cluster",
    "aws_opensearch_domain",
    "aws_elasticsearch_domain",
    "aws_secretsmanager_secret",
    "aws_backup_vault",
    "aws_ecr_repository",
    "aws_cognito_user_pool",
    "aws_timestreamwrite_database",
    "aws_glacier_vault",
    // Google Cloud
    "google_sql_database_instance",
    "google_sql_database",
    "google_storage_bucket",
    "google_compute_disk",
    "google_compute_region_disk",
    "google_container_cluster",
    "google_bigquery_dataset",
    "google_bigquery_table",
    "google_spanner_instance",
    "google_spanner_database",
    "google_bigtable_instance",
    "google_bigtable_table",
    "google_pubsub_topic",
    "google_pubsub_subscription",
    "google_kms_key_ring",
    "google_kms_crypto_key",
    "google_dns_managed_zone",
    "google_filestore_instance",
    "google_redis_instance",
    "google_alloydb_cluster",
    "google_firestore_database",
    "google_secret_manager_secret",
    // Azure
    "azurerm_mssql_server",
    "azurerm_mssql_database",
    "azurerm_postgresql_server",
    "azurerm_postgresql_flexible_server",
    "azurerm_mysql_server",
    "azurerm_mysql_flexible_server",
    "azurerm_cosmosdb_account",
    "azurerm_storage_account",
    "azurerm_storage_container",
    "azurerm_managed_disk",
    "azurerm_kubernetes_cluster",
    "azurerm_key_vault",
    "azurerm_key_vault_key",
    "azurerm_servicebus_namespace",
    "azurerm_eventhub_namespace",
    "azurerm_dns_zone",
    "azurerm_private_dns_zone",
    "azurerm_redis_cache",
    // Kubernetes
    "kubernetes_namespace",
    "kubernetes_namespace_v1",
    "kubernetes_persistent_volume",
    "kubernetes_persistent_volume_v1",
    "kubernetes_persistent_volume_claim",
    "kubernetes_persistent_volume_claim_v1",
    "kubernetes_stateful_set",
    "kubernetes_stateful_set_v1",
];

impl Rule for StatefulReplace {
    fn id(&self) -> RuleId {
        RuleId::new("stateful-replace")
    }

    fn default_level(&self) -> Level {
        Level::Deny
    }

    fn way_out(&self) -> WayOut {
        WayOut::Approval
    }

    fn summary(&self) -> &'static str {
        "replacement of a stateful resource (database, volume, bucket, cluster, namespace, queue, key...)"
    }

    fn docs(&self) -> &'static str {
        r#"## What it catches
A replacement (`["delete","create"]` or `["create","delete"]`) of a resource whose type holds
state: databases, clusters, volumes and disks, buckets, file systems, queues and topics, key
vaults and KMS keys, DNS zones, persistent volume claims, namespaces. The finding names the
attributes that force the replacement (`replace_paths`) and what Terraform's `action_reason`
means. The curated list covers AWS, Google Cloud, Azure and Kubernetes (`plangate explain
stateful-replace` is this text; the list is in the rule's source), and the policy can add types.
A plain delete of one of these types is `stateful-destroy`'s.

## Why
Incident 4: generated configuration gave a new object the same name as a production one, and the
"update" was really a replacement that deleted the production environment for six hours.
Incident 2: renaming a namespace is a delete in disguise. Replacing a database is deleting it.

## Example
`aws_db_instance.orders would be replaced (delete, then create), forced by engine_version (an
attribute that cannot be updated in place changed)`: blocked.

## Levels
`deny` by default. Intent does not excuse it; allow one resource by lowering the level in a
project-specific policy, or better, change the attribute in a way the provider can update.

## Configure
```yaml
stateful-types: ["aws_lightsail_database", "mongodbatlas_*"]
rules:
  stateful-replace: deny
```
"#
    }

    fn check(&self, ctx: &Context<'_>, out: &mut Vec<Finding>) {
        let stateful = StatefulTypes::of(ctx.policy);
        for plan in ctx.plans {
            for destroyed in &plan.destroyed {
                let change = plan.change(destroyed);
                if !change.action.is_replace() {
                    continue;
                }
                if !stateful.matches(&change.resource_type) {
                    continue;
                }
                let order = match change.action.terraform_list() {
                    "create,delete" => "create, then delete",
                    _ => "delete, then create",
                };
                let mut message =
                    format!("{} would be replaced ({order})", change.display_address());
                if !change.replace_paths.is_empty() {
                    message.push_str(&format!(", forced by {}", change.replace_paths.join(", ")));
                }
                if let Some(reason) = change.action_reason.as_deref() {
                    message.push_str(&format!(" ({})", reason_meaning(reason)));
                }
                message.push_str(": a stateful resource; its data or identity is lost");
                out.push(
                    Finding::new(self.id(), message)
                        .project(plan)
                        .address(change.address.to_string())
                        .action(change.action)
                        .resource_environment(
                            destroyed
                                .environment
                                .as_ref()
                                .map(|e| e.environment.as_str()),
                        ),
                );
            }
        }
    }
}

/// What Terraform's `action_reason` values mean, for people.
pub fn reason_meaning(reason: &str) -> String {
    match reason {
        "replace_because_cannot_update" => {
            "an attribute that cannot be updated in place changed".into()
        }
        "replace_because_tainted" => "the object is tainted".into(),
        "replace_by_request" => "replacement was requested with -replace".into(),
        "replace_by_triggers" => "replace_triggered_by fired".into(),
        "delete_because_no_resource_config" => "its resource block was removed".into(),
        "delete_because_no_module" => "its module call was removed".into(),
        "delete_because_wrong_repetition" => "count/for_each was added or removed".into(),
        "delete_because_count_index" => "count shrank below its index".into(),
        "delete_because_each_key" => "its key left the for_each collection".into(),
        "delete_because_no_move_target" => "a moved block points at nothing".into(),
        other => other.replace('_', " "),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_type_matched_again_gets_the_same_answer() {
        let policy = crate::pipeline::parse_policy(
            "stateful-types: [\"mongodbatlas_*\"]\n",
            std::path::Path::new("policy.yaml"),
        )
        .unwrap();
        let stateful = StatefulTypes::of(&policy);
        for _ in 0..2 {
            assert!(stateful.matches("aws_db_instance"));
            assert!(stateful.matches("mongodbatlas_cluster"));
            assert!(!stateful.matches("aws_iam_role"));
            assert!(!stateful.matches("mongodbatlas"));
        }
        let builtin = StatefulTypes::of(&crate::pipeline::builtin_policy());
        assert!(!builtin.matches("mongodbatlas_cluster"));
        assert!(builtin.matches("aws_db_instance"));
    }
}
