/* Every handler the route table dispatches to: int handler(struct req *),
 * returning the HTTP status it answered. Captures: rq->ints[0] is the
 * customer on /customers/%d/... routes, ints[1] the space (or batch), strs[0]
 * the asset id / key / policy name. */
#ifndef DLCS_HANDLERS_H
#define DLCS_HANDLERS_H

struct req;

/* entry.c */
int entry_get(struct req *rq);
int ping_get(struct req *rq);
int metrics_get(struct req *rq);

/* customers.c */
int customers_list(struct req *rq);
int customers_create(struct req *rq);
int customer_get(struct req *rq);
int customer_patch(struct req *rq);

/* keys.c (also the core's authenticate hook, keys_authenticate) */
int keys_list(struct req *rq);
int keys_create(struct req *rq);
int key_delete(struct req *rq);

/* spaces.c */
int spaces_list(struct req *rq);
int spaces_create(struct req *rq);
int space_get(struct req *rq);
int space_put(struct req *rq);
int space_patch(struct req *rq);
int space_delete(struct req *rq);

/* assets.c */
int space_images_list(struct req *rq);
int space_images_patch(struct req *rq);
int asset_get(struct req *rq);
int asset_put(struct req *rq);
int asset_patch(struct req *rq);
int asset_delete(struct req *rq);

/* all_images.c */
int all_images_get(struct req *rq);
int all_images_post(struct req *rq);
int all_images_patch(struct req *rq);

/* channel_policies.c, default_channels.c: delivery channel policies and
 * default delivery channels */
int dc_policy_collections(struct req *rq);
int dc_policies_list(struct req *rq);
int dc_policies_create(struct req *rq);
int dc_policy_get(struct req *rq);
int dc_policy_put(struct req *rq);
int dc_policy_patch(struct req *rq);
int dc_policy_delete(struct req *rq);
/* the default delivery channels of a customer, or (a route with /spaces/%d)
 * of one of its spaces */
int ddc_list(struct req *rq);
int ddc_create(struct req *rq);
int ddc_get(struct req *rq);
int ddc_put(struct req *rq);
int ddc_delete(struct req *rq);

/* origin_strategies.c: a customer's origin strategies */
int origin_strategies_list(struct req *rq);
int origin_strategies_create(struct req *rq);
int origin_strategy_get(struct req *rq);
int origin_strategy_put(struct req *rq);
int origin_strategy_delete(struct req *rq);

/* custom_headers.c: a customer's custom headers */
int custom_headers_list(struct req *rq);
int custom_headers_create(struct req *rq);
int custom_header_get(struct req *rq);
int custom_header_put(struct req *rq);
int custom_header_delete(struct req *rq);

/* roles.c, auth_services.c, role_providers.c: access control's resources */
int roles_list(struct req *rq);
int roles_create(struct req *rq);
int role_get(struct req *rq);
int role_put(struct req *rq);
int role_delete(struct req *rq);
int auth_services_list(struct req *rq);
int auth_services_create(struct req *rq);
int auth_service_get(struct req *rq);
int auth_service_put(struct req *rq);
int auth_service_patch(struct req *rq);
int auth_service_delete(struct req *rq);
int role_providers_list(struct req *rq);
int role_providers_create(struct req *rq);
int role_provider_get(struct req *rq);
int role_provider_put(struct req *rq);
int role_provider_delete(struct req *rq);

/* auth_flow.c, auth_access.c: the IIIF Authorization Flow 2.0 (delivery) */
int auth_probe(struct req *rq);
int auth_token(struct req *rq);
int auth_logout(struct req *rq);
int auth_access_get(struct req *rq);
int auth_access_post(struct req *rq);

/* portal_users.c: a customer's portal users */
int portal_users_list(struct req *rq);
int portal_users_create(struct req *rq);
int portal_user_get(struct req *rq);
int portal_user_patch(struct req *rq);
int portal_user_delete(struct req *rq);

/* named_queries.c: a customer's named queries */
int named_queries_list(struct req *rq);
int named_queries_create(struct req *rq);
int named_query_get(struct req *rq);
int named_query_put(struct req *rq);
int named_query_delete(struct req *rq);

/* manifests.c: IIIF manifests and named-query results (delivery) */
int iiif_resource_get(struct req *rq);
int iiif_resource_v2(struct req *rq);
int iiif_resource_v3(struct req *rq);
int iiif_manifest_get(struct req *rq);
int iiif_manifest_v2(struct req *rq);
int iiif_manifest_v3(struct req *rq);
int raw_resource_get(struct req *rq);
/* The named query of the path /{prefix}/{c}/{query}/{args...} (strs[0],
 * strs[1], rest) run for its customer: 0 with *c and *out (at least one
 * row), or the status answered: 404 for an unknown customer or query, or
 * no asset; 400 for a template or arguments that do not fit, or too many
 * assets; 5xx for the database. */
struct nq_result;
int nq_path_run(struct req *rq, int *c, struct nq_result *out);

/* projections.c: the PDF and ZIP projections of named queries (delivery) */
int pdf_get(struct req *rq);
int zip_get(struct req *rq);
int pdf_control_get(struct req *rq);
int zip_control_get(struct req *rq);

/* queue.c */
int global_queue_get(struct req *rq);
int queue_get(struct req *rq);
int queue_post(struct req *rq);
int queue_priority_post(struct req *rq);
int batches_list(struct req *rq);
int batch_get(struct req *rq);
int batch_images(struct req *rq);
int batch_completed_images(struct req *rq);
int batch_error_images(struct req *rq);
int batch_test(struct req *rq);
int queue_active(struct req *rq);
int queue_recent(struct req *rq);
int queue_images(struct req *rq);

/* storage.c */
int customer_storage_get(struct req *rq);
int space_storage_get(struct req *rq);
int asset_storage_get(struct req *rq);

/* policies.c: the shared, anonymous policy lists */
int storage_policies_list(struct req *rq);
int storage_policy_get(struct req *rq);
int thumbnail_policies_list(struct req *rq);
int thumbnail_policy_get(struct req *rq);
int iop_list(struct req *rq);
int iop_get(struct req *rq);
int origin_strategy_types_list(struct req *rq);
int origin_strategy_type_get(struct req *rq);

#endif
