//! `docs/behaviour.md`, rule by rule, against the server.
//!
//! Each row names rules by their number in `docs/behaviour.md` and the tests
//! that break them (module `::` test; `it::` are the end-to-end tests on the
//! real binary). Where a test runs one model fixture per rule, the row also
//! names the fixtures, relative to `crates/iteration-model/fixtures/`. Every
//! test asserts the exact status, `code`, and `errors` paths or message.
//!
//! The tidy test (`xtask/src/tidy.rs`) holds this table to the code: every
//! number must be a rule of `docs/behaviour.md`, every rule of its sections 1
//! to 3 and 5 must have a row, and every test named must exist.
//!
//! | rules | what | tests |
//! |---|---|---|
//! | 1.1 | the client's instance presets and custom base URLs | `builder::presets_and_custom_urls`, `args::presets_pick_the_base_url` |
//! | 1.2, 1.3, 1.4 | raw token and `Bearer`; missing/unknown 401; reader write 403; the token comes first | `errors::tokens_are_checked_before_anything_else_and_bearer_is_accepted` |
//! | 1.3 | token whose project scope excludes the project: 403 | `behaviour::a_token_scoped_to_another_project_is_403` |
//! | 1.5 | `LD-API-Version` `20240415`, `beta`, absent; other 400 naming them | `errors::api_versions_other_than_the_supported_are_refused` |
//! | 1.6 | error body `{code, message, id: uuid}`, `errors` listing every problem | `behaviour::every_error_body_has_a_uuid_and_conforms_to_its_schema`, `behaviour::resolve_fixtures_answer_as_the_model_resolves` |
//! | 1.7 | 404 (unknown project/env/experiment/route) JSON with id | `errors::unknown_project_environment_experiment_and_route_are_json_404s`, `behaviour::every_error_body_has_a_uuid_and_conforms_to_its_schema`, `it::server_http::unknown_routes_wrong_methods_and_bad_json_answer_json_over_the_socket` |
//! | 1.7 | 405 JSON with `Allow` | `errors::a_wrong_method_is_405_with_allow`, `behaviour::every_error_body_has_a_uuid_and_conforms_to_its_schema` |
//! | 1.7 | 409 `optimistic_locking_error` / `key_exists` | `create_iteration::a_stale_flag_version_alone_is_a_409_giving_both_versions`, `errors::a_taken_key_is_409_key_exists`, `faults::a_writer_that_always_loses_the_race_gets_409_and_changes_nothing` |
//! | 1.7 | 503 `service_unavailable` | `faults::storage_that_is_down_answers_503_without_its_details` |
//! | 1.7, 1.9 | 413 `request_entity_too_large`, in the error format | `errors::too_large_bodies_are_413_in_our_format`, `it::server_http::a_body_over_the_limit_is_413_in_our_format` |
//! | 1.8 | 415; `;` parameters allowed; malformed JSON gives line and column | `errors::bodies_must_be_json_and_malformed_json_names_line_and_column` |
//! | 1.8 | unknown fields ignored | `behaviour::unknown_fields_are_ignored_everywhere` |
//! | 1.9 | responses always `application/json` | every test: `TestApp::send` asserts it |
//! | 1.10 | `X-HTTP-Method-Override: PATCH` | `lifecycle::patches_apply_all_or_nothing_and_name_unknown_kinds` |
//! | 1.11 | rate-limit headers on every response of a limited route, per token; 429 `Retry-After` | `errors::rate_limits_send_headers_and_429_with_retry_after`, `behaviour::rate_limit_headers_come_on_every_answer_and_per_token`, `it::server_http::serve_rate_limits_each_route_and_answers_429_with_retry_after` |
//! | 1.4, 1.11 | a refused `LD-API-Version` is counted and carries the headers; a 401 carries none and spends nothing | `behaviour::rate_limit_headers_come_on_every_answer_and_per_token` |
//! | 1.12 | timestamps are integers | `behaviour::every_success_body_conforms_to_the_spec` (schema `format: int64`) |
//! | 1.13 | durability: every acknowledged create survives SIGKILL, nothing half-written | `it::serve::acknowledged_creates_survive_a_kill` |
//! | 1.13 | TLS (`serve --tls-cert/--tls-key`) | `it::server_http::serve_with_a_certificate_answers_over_tls_only_to_clients_that_trust_it` |
//! | 1.2 | two `Authorization` headers: 401; tokens compared in constant time | `admin::two_authorization_headers_are_401`, `tests::demo_tokens_are_a_writer_a_reader_and_an_admin_for_every_project` |
//! | 1.3 | role `admin`: what a writer may, plus the administration API; others 403, no token 401 | `admin::an_admin_may_do_what_a_writer_may`, `admin::the_admin_api_answers_401_without_a_token_and_403_to_other_roles` |
//! | 1.9 | the HTTP layer's answers (413 over HTTP/1 and HTTP/2, 408 for a body or an HTTP/1 head, 400, 414, 431 over HTTP/1 and HTTP/2) in the error format | `errors::answers_the_http_layer_gives_are_json_in_the_error_format`, `client_server::requests_hyper_cannot_parse_get_the_handlers_answer`, `client_server::an_http2_body_over_the_limit_is_answered_and_the_stream_is_not_reset`, `head_limits::an_incomplete_http1_head_gets_the_handlers_408_then_the_connection_closes`, `head_limits::a_kept_alive_connection_whose_next_head_stalls_gets_the_408_after_its_answer`, `head_limits::http2_headers_over_the_limit_get_the_handlers_431_and_the_connection_serves_on`, `it::server_http::the_http_layers_refusals_are_json_and_health_needs_no_token` |
//! | 1.11 | the global limit and its headers; refused tokens limited per client address with `Retry-After` | `admin::the_global_limit_is_shared_by_every_token_and_sends_its_headers`, `admin::refused_tokens_are_limited_per_client_address_with_retry_after` |
//! | 1.14 | CORS: the `Origin` echoed, else `*`; preflight on any path without a token | `admin::cors_echoes_the_origin_or_allows_any`, `admin::a_preflight_on_any_api_path_answers_without_a_token` |
//! | 1.15 | a 503 carries `Retry-After` | `faults::storage_that_is_down_answers_503_without_its_details` |
//! | 1.16 | `null` for an optional body property reads as absent, and the document marks it `nullable` | `inputs::null_for_an_optional_field_reads_as_absent`, `openapi::tests::optional_request_properties_are_nullable_and_responses_keep_their_schemas` |
//! | 1.16 | documented fields and query values are read with their type even when unused; offsets within int64 | `inputs::a_documented_field_of_the_wrong_type_is_400_even_when_it_is_deprecated`, `inputs::documented_fields_the_server_does_not_use_are_still_checked`, `inputs::a_boolean_query_parameter_must_be_a_boolean_even_when_it_is_ignored`, `inputs::a_page_offset_beyond_the_documented_int64_is_400` |
//! | 1.16 | the document states page bounds, required fields and non-empty instructions | `openapi::tests::lists_say_how_large_a_page_may_be`, `openapi::tests::fields_the_server_requires_are_required` |
//! | 2.2, 2.5, 2.12 | invisible characters and Unicode white space count as nothing for blank and unique | `tests::invisible_characters_are_nothing_for_blank_and_unique`, `tests::an_experiment_name_or_tag_of_invisible_characters_is_blank` |
//! | 6.1 | `/healthz`, `/readyz` without a token; 503 while the store is down | `admin::health_and_readiness_answer_json_without_a_token`, `faults::readiness_is_503_while_the_store_is_down_and_health_stays_200` |
//! | 6.2 | reset to the seed world | `admin::reset_returns_experiments_and_catalogs_to_the_seed_world`, `conformance::replace_all_leaves_exactly_what_seeding_an_empty_store_leaves` |
//! | 6.3 | the state as a world file; export, import, export is byte-identical | `admin::the_state_is_a_world_file_that_starts_a_server_in_the_same_state`, `admin::export_import_export_is_byte_identical_for_random_histories` |
//! | 6.4 | replacing the state, every problem with its pointer | `admin::put_state_lists_every_problem_with_its_path_and_changes_nothing`, `admin::put_state_replaces_tokens_and_projects_and_reset_restores_the_seed` |
//! | 6.5 | the request journal; `--journal-size 0` switches it off | `admin::the_journal_lists_requests_newest_first_with_token_names_and_write_bodies`, `journal::tests::a_journal_of_size_zero_records_nothing_and_a_small_one_keeps_its_size`, `it::cli_admin::a_server_without_a_journal_lists_nothing` |
//! | 6.6 | injected faults | `admin::faults_answer_their_status_in_the_error_format_and_count_down` |
//! | 6.7 | `TestServer` in one call | `tests::starts_serves_resets_and_stops_on_drop` |
//! | 6.8 | an empty or foreign database file is refused | `conformance::sqlite_refuses_an_empty_database_file_instead_of_seeding_over_it`, `conformance::sqlite_refuses_a_database_it_did_not_write` |
//! | 6.9 | `iteration admin` resets, reads and replaces the state, lists the journal, sets and clears faults | `it::cli_admin::state_is_read_replaced_and_reset`, `it::cli_admin::the_journal_lists_what_was_sent_and_faults_fail_matching_requests` |
//! | 2.1, 2.21, 2.22, 2.23 | 200 with the `IterationRep`, field by field | `create_iteration::the_demo_request_creates_the_draft_behaviour_md_describes`, `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/demo-valid-request.json`) |
//! | 2.25 | the 200 body is valid against `IterationRep` | `behaviour::every_success_body_conforms_to_the_spec` |
//! | 2.1 | unreadable bodies; every problem at once | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/missing-fields.json`, `invalid/wrong-types.json`, `invalid/not-an-object.json`, `invalid/treatment-fields-missing.json`, `invalid/many-problems-at-once.json`) |
//! | 2.1 | the docs page's request, byte for byte: every reason | `create_iteration::the_docs_page_request_lists_every_reason_it_is_invalid`, `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/docs-page-request.json`) |
//! | 2.1 | shape and catalog violations together | `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/static-rule-fails-first.json`, `resolve/docs-page-request.json`) |
//! | 2.2 | hypothesis not blank | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/hypothesis-blank.json`) |
//! | 2.3 | metrics given, keys valid and unique | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/metrics-empty.json`, `invalid/metric-key-invalid.json`, `invalid/metric-key-too-long.json`, `invalid/metrics-duplicate-key.json`) |
//! | 2.4 | exactly one primary metric | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/primary-none.json`, `invalid/primary-both-keys.json`, `invalid/primary-not-among-metrics.json`, `invalid/primary-single-names-a-group.json`, `invalid/primary-funnel-names-a-single-metric.json`, `invalid/primary-legacy-two-flagged.json`), `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/primary-legacy-flag.json`) |
//! | 2.5 | two or more treatments, one baseline, names | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/treatments-only-one.json`, `invalid/treatments-no-baseline.json`, `invalid/treatments-two-baselines.json`, `invalid/treatment-name-blank.json`, `invalid/treatment-names-duplicate.json`) |
//! | 2.6 | allocation values | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/allocation-not-decimal.json`, `invalid/allocation-too-precise.json`, `invalid/allocation-over-hundred.json`, `invalid/allocation-negative-number.json`) |
//! | 2.7 | allocations sum to exactly 100 | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/allocation-sum-not-hundred.json`, `invalid/allocation-sum-over-hundred-by-a-hair.json`), `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/three-treatments-exact-thirds.json`) |
//! | 2.8 | flags given; `flags` as a JSON string | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/flags-empty.json`, `invalid/flags-string-not-json.json`, `invalid/flags-string-not-an-object.json`), `create_iteration::a_new_draft_replaces_the_old_one_and_flags_may_be_a_json_string` |
//! | 2.9 | one parameter per flag, distinct variations | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/parameter-missing-for-flag.json`, `invalid/parameter-names-flag-not-in-flags.json`, `invalid/parameter-twice-for-one-flag.json`, `invalid/variation-used-by-two-treatments.json`) |
//! | 2.10 | flag entries well formed | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/rule-id-blank.json`, `invalid/flag-config-version-zero.json`) |
//! | 2.11 | reallocation period at least a minute | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/reallocation-frequency-too-small.json`, `invalid/reallocation-frequency-not-an-integer.json`) |
//! | 2.12 | attributes | `behaviour::invalid_fixtures_report_the_models_violations` (`invalid/attributes-blank.json`, `invalid/attributes-duplicate.json`, `invalid/attributes-too-many.json`) |
//! | 2.13 | metrics exist, as the kind named | `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/metric-unknown.json`, `resolve/metric-group-without-is-group.json`, `resolve/metric-single-with-is-group.json`) |
//! | 2.14 | the primary group is a funnel | `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/primary-funnel.json`, `resolve/primary-funnel-not-a-funnel.json`) |
//! | 2.15 | flags, rules and variations exist; the not-in-experiment default | `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/flag-unknown.json`, `resolve/flag-archived.json`, `resolve/rule-unknown.json`, `resolve/variation-unknown.json`, `resolve/not-in-experiment-variation-unknown.json`, `resolve/two-flags-one-on-fallthrough.json`, `resolve/defaults-randomization-unit-and-not-in-experiment-variation.json`) |
//! | 2.16 | randomization unit | `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/randomization-unit-unknown.json`, `resolve/randomization-unit-not-for-experiments.json`, `resolve/randomization-unit-unsupported-by-metric.json`, `resolve/randomization-unit-unsupported-inside-group.json`, `resolve/organization-unit-with-organization-metrics.json`) |
//! | 2.17 | reallocation only for bandits | `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/reallocation-not-bandit.json`, `resolve/bandit-with-reallocation.json`), `behaviour::a_new_experiment_keeps_what_was_posted_and_its_type_decides_reallocation` |
//! | 2.18 | covariate exists | `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/covariate-unknown.json`) |
//! | 2.19 | an archived experiment refuses new iterations | `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/experiment-archived.json`), `lifecycle::archiving_blocks_new_iterations_and_starts_until_restored` |
//! | 2.20 | stale flag version: 409, only when nothing else fails | `create_iteration::a_stale_flag_version_alone_is_a_409_giving_both_versions`, `behaviour::resolve_fixtures_answer_as_the_model_resolves` (`resolve/flag-version-stale.json`, `resolve/flag-version-stale-and-another-problem.json`, `resolve/test-environment-flag-version.json`) |
//! | 2.24 | the new draft replaces an earlier one | `create_iteration::a_new_draft_replaces_the_old_one_and_flags_may_be_a_json_string` |
//! | 3.1 | create experiment 201 with what was posted; duplicate key 409 `key_exists`; its own and its iteration's errors together, under `/iteration` | `errors::a_taken_key_is_409_key_exists`, `behaviour::a_new_experiment_keeps_what_was_posted_and_its_type_decides_reallocation` |
//! | 3.2 | `expand`: current always, others only expanded and non-empty, treatments only expanded | `behaviour::expand_shows_only_what_was_asked_for`, `behaviour::secondary_metrics_and_analysis_config_appear_only_when_expanded` |
//! | 3.3 | list: limit (default 20, max 50, 51 is 400), offset, filters, lifecycleState, links, across environments | `behaviour::lists_page_filter_and_link_exactly`, `lifecycle::lists_page_filter_and_link` |
//! | 3.4 | semantic patch content type, and plain JSON | `behaviour::semantic_patch_content_type_is_accepted` |
//! | 3.4 | all instructions or none; unknown kind; no instructions | `lifecycle::patches_apply_all_or_nothing_and_name_unknown_kinds`, `behaviour::a_patch_needs_instructions_each_with_a_kind` |
//! | 3.5 | `updateName`, `updateDescription` | `behaviour::semantic_patch_content_type_is_accepted`, `lifecycle::patches_apply_all_or_nothing_and_name_unknown_kinds` |
//! | 2.24, 3.6, 3.7 | create → start → redraft → start with justification → stop with winner, `layerSnapshot` | `lifecycle::create_start_redraft_restart_and_stop_with_a_winner` |
//! | 3.6 | startIteration preconditions, each | `behaviour::start_iteration_refuses_each_failed_precondition`, `behaviour::start_preconditions_that_no_request_can_break` |
//! | 3.7 | stopIteration without a running iteration, unknown winner | `behaviour::stop_iteration_needs_a_running_iteration_and_one_of_its_treatments` |
//! | 3.7, 3.8 | archive / restore (sets / clears `archivedDate`); `layerSnapshot` only in a layer | `lifecycle::archiving_blocks_new_iterations_and_starts_until_restored`, `behaviour::only_an_experiment_in_a_layer_gets_a_layer_snapshot_and_restore_clears_archived_date` |
//! | 3.9 | updateExperimentFields on a draft (any field, version + 1, revalidated), on running (metrics add only, else 400 naming saveAndStartNewIteration) | `lifecycle::update_experiment_fields_changes_the_draft_and_bumps_its_version`, `behaviour::a_draft_takes_updates_to_any_iteration_field_and_revalidates`, `behaviour::a_running_iteration_only_takes_added_metrics` |
//! | 3.10 | saveAndStartNewIteration: stops, copies, updates, validates as Create iteration, starts | `behaviour::save_and_start_new_iteration_validates_like_create_iteration` |
//! | 3.11 | `mutableFieldsByStatus` describes exactly what is enforced | `behaviour::mutable_fields_by_status_is_exactly_what_is_enforced` |
//! | 3.12 | concurrency: never two running, no acknowledged write lost; a writer that always loses gets 409 | `concurrency::sixty_four_concurrent_changes_leave_one_consistent_history`, `it::server_concurrency::racing_lifecycle_requests_on_sqlite_leave_one_consistent_history`, `faults::a_writer_that_always_loses_the_race_gets_409_and_changes_nothing` |
//! | 4.1, 4.2 | a suite's catalog workflow: metric, funnel, flag versions +2, 409 naming both, 200, start, delete in use; restart keeps it | `catalog::a_suite_sets_up_its_catalog_and_experiment_and_sees_flag_versions_move`, `it::catalog::a_suites_catalog_workflow_survives_a_restart` |
//! | 4.2 | a write on a replaced catalog fails at the store; a catalog change that read the experiments and a write on the old catalog never both win; racing flag changes and create iterations | `store::conformance::an_experiment_write_checked_against_a_replaced_catalog_fails`, `store::conformance::a_flag_change_and_a_write_on_its_old_version_never_both_win`, `catalog::no_iteration_is_created_against_a_replaced_flag_version` |
//! | 4.3 | a new flag's defaults, 409 `key_exists`, `env`; every problem of a body with its path | `catalog::a_new_flag_starts_off_at_version_1_in_every_environment`, `catalog::a_flag_body_reports_every_problem_with_its_path` |
//! | 4.4 | environment instructions move one environment; names move `_version`; variations move all | `catalog::environment_instructions_move_only_that_environments_version` |
//! | 4.5, 4.7 | JSON Patch cannot change what the server keeps; the result is checked whole | `catalog::a_json_patch_cannot_change_what_the_server_keeps` |
//! | 4.6, 4.7 | semantic patch whole or nothing, each failing instruction at its path, `environmentKey` | `catalog::a_semantic_patch_applies_whole_or_not_at_all`, `catalog::a_rule_added_by_semantic_patch_can_be_an_iterations_rule` |
//! | 4.8 | a flag in use is not deleted; an archived flag cannot start; archived flags listed on request | `catalog::a_flag_in_use_cannot_be_deleted_and_an_archived_one_cannot_start` |
//! | 4.9 | a metric body's every problem; 409 | `catalog::a_metric_post_reports_every_rule_it_breaks` |
//! | 4.10, 4.11 | metric patch: new `_versionId`, iterations keep theirs, groups follow, `kind` fixed, in use | `catalog::an_iteration_keeps_the_metric_as_it_was_when_created` |
//! | 4.10 | metric list filters, pages, expands | `catalog::metric_lists_filter_page_and_expand` |
//! | 4.12 | groups: members exist, distinct, funnel has two; delete | `catalog::metric_groups_need_existing_distinct_members` |
//! | 4.13 | context kinds: create, update, archive refused while enabled | `catalog::context_kinds_are_created_and_updated_by_put` |
//! | 4.14 | settings: every problem; the default unit of new iterations | `catalog::settings_choose_the_default_unit_of_new_iterations` |
//! | 1.3, 4.1 | a reader reads the catalog but cannot change it | `catalog::a_reader_may_read_the_catalog_but_not_change_it` |
//! | 3.13 | flags fixed once an iteration has run, in field updates and `saveAndStartNewIteration` | `experiment_rules::the_flags_of_an_experiment_are_fixed_once_an_iteration_has_run` |
//! | 3.14 | one running bandit per flag targeting rule, also when two start at once | `experiment_rules::one_bandit_runs_per_flag_targeting_rule`, `experiment_rules::racing_bandit_starts_never_both_win` |
//! | 3.15 | bandit metrics are analysed by the mean | `experiment_rules::a_bandit_measures_metrics_by_their_mean` |
//! | 3.16 | `type`, `methodology`, `dataSource`, correction values and thresholds checked on create | `experiment_rules::an_experiment_post_names_known_values_and_thresholds_in_range` |
//! | 5.1 | list layers, `filter=experimentKey:`, create 201 / 409 / 400, the outside share shown | `layers_holdouts::layers_are_created_listed_and_filtered_by_experiment` |
//! | 5.2 | a reservation is an integer 0–100 of an experiment of the environment; `environmentKey` required | `layers_holdouts::a_reservation_is_an_integer_from_0_to_100_of_a_known_experiment` |
//! | 5.3 | at most 100 per environment, naming both numbers; the outside share counts | `layers_holdouts::a_layer_refuses_to_exceed_100_and_a_stop_snapshots_the_live_layer`, `layers_holdouts::the_seeded_layer_counts_its_outside_share_towards_100` |
//! | 5.4 | one layer per experiment; a layer or a holdout, never both | `layers_holdouts::an_experiment_is_in_at_most_one_layer`, `layers_holdouts::a_holdout_runs_with_its_experiment_and_ends_only_when_nothing_runs` |
//! | 5.5 | 0 only until an iteration starts; a start needs more than 0 | `layers_holdouts::zero_is_allowed_only_until_an_iteration_starts_and_a_start_needs_more` |
//! | 5.6 | `removeExperiment` refused while running | `layers_holdouts::a_running_experiment_is_not_removed_from_its_layer` |
//! | 5.7 | `layerSnapshot` from the live layer at the stop | `layers_holdouts::a_layer_refuses_to_exceed_100_and_a_stop_snapshots_the_live_layer`, `layers_holdouts::the_seeded_layer_snapshots_10_and_70`, `lifecycle::create_start_redraft_restart_and_stop_with_a_winner` |
//! | 5.8 | layer patches: names, both content types, all or nothing, unknown kind | `layers_holdouts::layer_patches_apply_whole_and_take_either_content_type` |
//! | 5.9 | `postHoldout`: status `created`, base experiment, every problem at once, 409 | `layers_holdouts::a_holdout_runs_with_its_experiment_and_ends_only_when_nothing_runs`, `layers_holdouts::post_holdout_reports_every_problem_and_refuses_a_taken_key` |
//! | 5.10 | `holdoutId`: a holdout of the environment, not ended | `layers_holdouts::an_experiment_joins_only_a_holdout_of_its_environment`, `layers_holdouts::a_holdout_runs_with_its_experiment_and_ends_only_when_nothing_runs` |
//! | 5.11 | status `created`, `enabled`, `running`, `ended`; `isDirty` | `layers_holdouts::a_holdout_runs_with_its_experiment_and_ends_only_when_nothing_runs`, `layers_holdouts::a_running_experiment_does_not_leave_its_holdout` |
//! | 5.12 | `endHoldout` refused while running and twice; names; 404 | `layers_holdouts::a_holdout_runs_with_its_experiment_and_ends_only_when_nothing_runs`, `layers_holdouts::holdout_patches_rename_describe_and_end_once` |
//! | 5.13 | `removeExperiment` refused while running; clears `holdoutId` | `layers_holdouts::a_running_experiment_does_not_leave_its_holdout` |
//! | 5.14 | list, get with `expand` and `rel-`, get by ID; base experiments not among experiments | `layers_holdouts::the_demo_holdout_is_listed_and_read_by_key_and_by_id`, `layers_holdouts::an_experiment_joins_only_a_holdout_of_its_environment` |
//! | 5.15 | reservations and starts race without overfilling or stale wins | `layers_holdouts::racing_reservations_never_overfill_a_layer`, `layers_holdouts::a_start_and_a_zero_reservation_never_both_win` |
//! | 1.3, 5.1 | a reader reads layers and holdouts but cannot change them | `layers_holdouts::a_reader_may_read_layers_and_holdouts_but_not_change_them` |

use std::path::PathBuf;

use http::{Method, StatusCode};
use iteration_model::Experiment;
use serde_json::json;

use super::schema::assert_conforms;
use super::*;
use iteration_model::lifecycle::{self, FlagState, Refusal};

const ENVIRONMENT: &str = "/api/v2/projects/my-project/environments/production";

fn model_fixtures(dir: &str) -> PathBuf {
    PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("../iteration-model/fixtures").join(dir)
}

fn read_json(path: &std::path::Path) -> Value {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("read {}: {e}", path.display()));
    serde_json::from_str(&text).unwrap_or_else(|e| panic!("{} is not JSON: {e}", path.display()))
}

/// The fixture cases in `dir` (files not ending in `.<suffix>.json`), sorted.
fn cases(dir: &str, suffix: &str) -> Vec<(String, Value, Value)> {
    let dir = model_fixtures(dir);
    let mut names: Vec<String> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("read {}: {e}", dir.display()))
        .filter_map(|entry| entry.ok()?.file_name().into_string().ok())
        .filter(|name| name.strip_suffix(".json").is_some_and(|stem| !stem.contains('.')))
        .collect();
    names.sort();
    assert!(!names.is_empty(), "no fixtures in {}", dir.display());
    names
        .into_iter()
        .map(|name| {
            let stem = name.trim_end_matches(".json").to_owned();
            let case = read_json(&dir.join(&name));
            let expected = read_json(&dir.join(format!("{stem}.{suffix}.json")));
            (stem, case, expected)
        })
        .collect()
}

/// The errors of an error body as `(path, code, message)`, in order.
fn errors(body: &Value) -> Vec<(String, String, String)> {
    body["errors"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|e| {
            let text = |field: &str| e[field].as_str().unwrap_or("").to_owned();
            (text("path"), text("code"), text("message"))
        })
        .collect()
}

/// Ids and times that the server makes afresh, set to null so two
/// representations of the same iteration compare equal.
fn without_fresh_values(mut iteration: Value) -> Value {
    iteration["_id"] = Value::Null;
    iteration["createdAt"] = Value::Null;
    for treatment in iteration["treatments"].as_array_mut().into_iter().flatten() {
        treatment["_id"] = Value::Null;
    }
    iteration
}

fn assert_uuid(text: &str) {
    let groups: Vec<&str> = text.split('-').collect();
    let lengths: Vec<usize> = groups.iter().map(|g| g.len()).collect();
    assert_eq!(lengths, [8, 4, 4, 4, 12], "{text} is not a UUID");
    assert!(groups.iter().all(|g| g.bytes().all(|b| b.is_ascii_hexdigit())), "{text} is not a UUID");
}

/// A world with one more token, a writer allowed only in `other-project`.
async fn app_with_scoped_token() -> TestApp {
    let mut document: Value =
        serde_json::from_str(&World::demo().to_json().expect("the demo world serializes")).expect("JSON");
    document["tokens"]
        .as_array_mut()
        .expect("tokens")
        .push(json!({"token": "api-other-writer", "role": "writer", "projects": ["other-project"]}));
    let mut other = document["projects"][0].clone();
    other["key"] = json!("other-project");
    other["name"] = json!("Other project");
    document["projects"].as_array_mut().expect("projects").push(other);
    let world = World::from_json(document.to_string().as_bytes()).expect("a valid world");
    TestApp::with_world(world, RateLimits::OFF).await
}

#[tokio::test]
async fn resolve_fixtures_answer_as_the_model_resolves() {
    // The model's fixtures run at this instant.
    let now = UnixMillis(1_700_000_000_000);
    for (name, case, expected) in cases("resolve", "expected") {
        let t = TestApp::new().await;
        t.clock.set(now);
        let (experiment, environment, body) = match case.get("body") {
            Some(body) => (
                case["experiment"].as_str().unwrap_or("example-experiment"),
                case.get("environment").and_then(Value::as_str).unwrap_or("production"),
                body.clone(),
            ),
            None => ("example-experiment", "production", case.clone()),
        };
        let environment_path = format!("/api/v2/projects/my-project/environments/{environment}");
        // The demo world has experiments in production only; elsewhere the
        // case runs as a new experiment's iteration, whose errors sit under /iteration.
        let in_new_experiment = environment != "production";
        let answer = if in_new_experiment {
            let post = json!({"name": experiment, "key": experiment, "iteration": body});
            t.call(Method::POST, &format!("{environment_path}/experiments"), Some(post)).await
        } else {
            let path = format!("{environment_path}/experiments/{experiment}/iterations");
            t.call(Method::POST, &path, Some(body)).await
        };
        if let Some(iteration) = expected.get("iteration") {
            let (status, got) = if in_new_experiment {
                (StatusCode::CREATED, answer.body["draftIteration"].clone())
            } else {
                (StatusCode::OK, answer.body.clone())
            };
            assert_eq!(answer.status, status, "{name}: {}", answer.body);
            assert_conforms("IterationRep", &got, &name);
            assert_eq!(got["createdAt"], now.get(), "{name}");
            assert_eq!(without_fresh_values(got), without_fresh_values(iteration.clone()), "{name}");
        } else if let Some(violations) = expected.get("violations") {
            assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
            let prefix = if in_new_experiment { "/iteration" } else { "" };
            let expected: Vec<(String, String, String)> = violations
                .as_array()
                .expect("violations")
                .iter()
                .map(|v| {
                    let text = |field: &str| v[field].as_str().unwrap_or("").to_owned();
                    (format!("{prefix}{}", text("path")), text("code"), text("message"))
                })
                .collect();
            assert_eq!(errors(&answer.body), expected, "{name}");
        } else {
            assert_error(&answer, StatusCode::CONFLICT, "optimistic_locking_error");
            assert_eq!(answer.body["message"], expected["conflict"]["message"], "{name}");
            assert_eq!(answer.body.get("errors"), None, "{name}");
        }
    }
}

#[tokio::test]
async fn invalid_fixtures_report_the_models_violations() {
    let t = TestApp::new().await;
    let path = format!("{EXPERIMENT}/iterations");
    for (name, body, expected) in cases("invalid", "violations") {
        let answer = t.call(Method::POST, &path, Some(body)).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        let got = errors(&answer.body);
        // The shape rules come first and the catalog may add more; each
        // violation the model reports must be among them, word for word.
        for violation in expected["violations"].as_array().expect("violations") {
            let text = |field: &str| violation[field].as_str().unwrap_or("").to_owned();
            let wanted = (text("path"), text("code"), text("message"));
            assert!(got.contains(&wanted), "{name}: {wanted:?} missing from {got:#?}");
        }
    }
}

#[tokio::test]
async fn every_success_body_conforms_to_the_spec() {
    let t = TestApp::new().await;
    let created = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    assert_eq!(created.status, StatusCode::OK);
    assert_conforms("IterationRep", &created.body, "the created iteration");

    let post = json!({"name": "Second", "key": "second", "iteration": valid_request(), "tags": ["a"]});
    let experiment = t.call(Method::POST, &format!("{ENVIRONMENT}/experiments"), Some(post)).await;
    assert_eq!(experiment.status, StatusCode::CREATED, "{}", experiment.body);
    assert_conforms("Experiment", &experiment.body, "the created experiment");

    // Every kind of iteration: running, stopped with a layer snapshot, draft.
    assert_eq!(t.patch(json!([{"kind": "startIteration"}])).await.status, StatusCode::OK);
    let winner =
        t.call(Method::GET, &format!("{EXPERIMENT}?expand=treatments"), None).await.body["currentIteration"]
            ["treatments"][0]["_id"]
            .clone();
    let stopped = t.patch(json!([{"kind": "stopIteration", "winningTreatmentId": winner}])).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    assert_eq!(t.patch(json!([{"kind": "startIteration"}])).await.status, StatusCode::OK);
    t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    let everything = "expand=draftIteration,previousIterations,treatments,secondaryMetrics,analysisConfig";
    let got = t.call(Method::GET, &format!("{EXPERIMENT}?{everything}"), None).await;
    assert_eq!(got.status, StatusCode::OK);
    assert!(got.body["previousIterations"][0]["layerSnapshot"].is_object(), "{}", got.body);
    assert!(got.body["currentIteration"].is_object() && got.body["draftIteration"].is_object());
    assert_conforms("Experiment", &got.body, "an experiment with every iteration expanded");

    let list = t.call(Method::GET, &format!("{ENVIRONMENT}/experiments?{everything}"), None).await;
    assert_eq!(list.status, StatusCode::OK);
    assert_conforms("ExperimentCollectionRep", &list.body, "the list");
    let project = t.call(Method::GET, "/api/v2/projects/my-project/experiments", None).await;
    assert_conforms("ExperimentCollectionRep", &project.body, "the project's list");
}

#[tokio::test]
async fn every_error_body_has_a_uuid_and_conforms_to_its_schema() {
    let t = TestApp::with_limits(RateLimits { route: Some(1), ..RateLimits::OFF }).await;
    let iterations = format!("{EXPERIMENT}/iterations");
    let mut stale = valid_request();
    stale["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(1);
    let answers = [
        (t.call(Method::POST, &iterations, Some(json!({}))).await, "InvalidRequestErrorRep"),
        (t.send(request(Method::GET, EXPERIMENT, "nope", None)).await, "UnauthorizedErrorRep"),
        (t.send(request(Method::PATCH, EXPERIMENT, READER, Some(b"{}".to_vec()))).await, "ForbiddenErrorRep"),
        (t.call(Method::GET, "/api/v2/nothing/here", None).await, "NotFoundErrorRep"),
        (t.call(Method::PUT, EXPERIMENT, None).await, "MethodNotAllowedErrorRep"),
        (t.call(Method::GET, &format!("{ENVIRONMENT}/experiments/nope"), None).await, ""),
        // The route's one request of this window was the 404 above.
        (t.call(Method::GET, EXPERIMENT, None).await, "RateLimitedErrorRep"),
        (t.call(Method::GET, &format!("{ENVIRONMENT}/experiments?limit=51"), None).await, ""),
    ];
    let mut ids = Vec::new();
    for (answer, schema) in &answers {
        let id = answer.body["id"].as_str().unwrap_or_else(|| panic!("no id in {}", answer.body));
        assert_uuid(id);
        ids.push(id.to_owned());
        if !schema.is_empty() {
            assert_conforms(schema, &answer.body, &answer.status.to_string());
        }
    }
    let statuses: Vec<u16> = answers.iter().map(|(a, _)| a.status.as_u16()).collect();
    assert_eq!(statuses, [400, 401, 403, 404, 405, 404, 429, 400]);
    ids.sort();
    ids.dedup();
    assert_eq!(ids.len(), 8, "every error has its own id");

    // A conflict.
    let t = TestApp::new().await;
    let answer = t.call(Method::POST, &iterations, Some(stale)).await;
    assert_error(&answer, StatusCode::CONFLICT, "optimistic_locking_error");
    assert_conforms("StatusConflictErrorRep", &answer.body, "409");
}

#[tokio::test]
async fn a_token_scoped_to_another_project_is_403() {
    let t = app_with_scoped_token().await;
    let iterations = format!("{EXPERIMENT}/iterations");
    let body = Some(valid_request().to_string().into_bytes());
    for (method, path, body) in [
        (Method::GET, EXPERIMENT.to_owned(), None),
        (Method::POST, iterations.clone(), body),
        (Method::GET, "/api/v2/projects/my-project/experiments".to_owned(), None),
    ] {
        let answer = t.send(request(method, &path, "api-other-writer", body)).await;
        assert_error(&answer, StatusCode::FORBIDDEN, "forbidden");
        assert_eq!(answer.body["message"], "this access token may not use project `my-project`");
    }
    // In its own project (a copy of my-project) it may read and write.
    let other = "/api/v2/projects/other-project/environments/production/experiments/example-experiment";
    let answer = t.send(request(Method::GET, other, "api-other-writer", None)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let body = Some(valid_request().to_string().into_bytes());
    let answer =
        t.send(request(Method::POST, &format!("{other}/iterations"), "api-other-writer", body)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
}

#[tokio::test]
async fn unknown_fields_are_ignored_everywhere() {
    let t = TestApp::new().await;
    let mut body = valid_request();
    body["someFutureField"] = json!({"nested": [1, 2]});
    body["treatments"][0]["colour"] = json!("blue");
    body["flags"]["example-flag-for-experiment"]["extra"] = json!(true);
    body["metrics"][0]["weight"] = json!(2);
    let answer = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(body)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body.get("someFutureField"), None);

    let answer = t
        .call(
            Method::PATCH,
            EXPERIMENT,
            Some(json!({"comment": "c", "future": 1, "instructions": [{"kind": "updateName", "value": "N", "extra": 2}]})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    assert_eq!(answer.body["name"], "N");
}

#[tokio::test]
async fn semantic_patch_content_type_is_accepted() {
    let t = TestApp::new().await;
    for (content_type, name) in [
        ("application/json; domain-model=launchdarkly.semanticpatch", "Semantic"),
        ("application/json", "Plain"),
        ("Application/JSON;domain-model=launchdarkly.semanticpatch;charset=utf-8", "Spaced"),
    ] {
        let body = json!({"instructions": [{"kind": "updateName", "value": name}]});
        let mut req = request(Method::PATCH, EXPERIMENT, WRITER, Some(body.to_string().into_bytes()));
        req.headers_mut().insert("content-type", content_type.parse().expect("header"));
        let answer = t.send(req).await;
        assert_eq!(answer.status, StatusCode::OK, "{content_type}: {}", answer.body);
        assert_eq!(answer.body["name"], name);
    }
    let body = json!({"instructions": [{"kind": "updateName", "value": "x"}]});
    let mut req = request(Method::PATCH, EXPERIMENT, WRITER, Some(body.to_string().into_bytes()));
    req.headers_mut().insert("content-type", "application/merge-patch+json".parse().expect("header"));
    let answer = t.send(req).await;
    assert_error(&answer, StatusCode::UNSUPPORTED_MEDIA_TYPE, "unsupported_media_type");
    assert_eq!(
        answer.body["message"],
        "the body must be JSON with Content-Type: application/json; the Content-Type was application/merge-patch+json"
    );
}

#[tokio::test]
async fn expand_shows_only_what_was_asked_for() {
    let t = TestApp::new().await;
    t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    let plain = t.call(Method::GET, EXPERIMENT, None).await;
    for absent in ["draftIteration", "currentIteration", "previousIterations", "mutableFieldsByStatus"] {
        assert_eq!(plain.body.get(absent), None, "{absent} in {}", plain.body);
    }
    let draft = t.call(Method::GET, &format!("{EXPERIMENT}?expand=draftIteration"), None).await;
    assert_eq!(draft.body["draftIteration"]["status"], "not_started");
    assert_eq!(draft.body["draftIteration"].get("treatments"), None);
    // Expanded but empty: still absent.
    let previous = t.call(Method::GET, &format!("{EXPERIMENT}?expand=previousIterations"), None).await;
    assert_eq!(previous.body.get("previousIterations"), None, "{}", previous.body);

    t.patch(json!([{"kind": "startIteration"}])).await;
    t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    t.patch(json!([{"kind": "startIteration", "changeJustification": "again"}])).await;
    let plain = t.call(Method::GET, EXPERIMENT, None).await;
    assert_eq!(plain.body["currentIteration"]["status"], "running", "current comes unasked");
    assert_eq!(plain.body["currentIteration"].get("treatments"), None);
    assert_eq!(plain.body.get("previousIterations"), None);
    let full = t.call(Method::GET, &format!("{EXPERIMENT}?expand=previousIterations,treatments"), None).await;
    assert_eq!(full.body["previousIterations"].as_array().map(Vec::len), Some(1));
    assert_eq!(full.body["previousIterations"][0]["treatments"].as_array().map(Vec::len), Some(2));
    assert_eq!(full.body["currentIteration"]["treatments"].as_array().map(Vec::len), Some(2));
    // Unknown expand names are ignored like unknown fields.
    let odd = t.call(Method::GET, &format!("{EXPERIMENT}?expand=nothing,treatments"), None).await;
    assert_eq!(odd.status, StatusCode::OK);
    assert_eq!(odd.body["currentIteration"]["treatments"].as_array().map(Vec::len), Some(2));
}

#[tokio::test]
async fn mutable_fields_by_status_is_exactly_what_is_enforced() {
    let t = TestApp::new().await;
    let got = t.call(Method::GET, &format!("{EXPERIMENT}?expand=mutableFieldsByStatus"), None).await;
    let all = json!(["add", "update", "remove"]);
    let mut experiment_level = serde_json::Map::new();
    experiment_level.insert("name".to_owned(), json!(["add", "update"]));
    experiment_level.insert("description".to_owned(), all.clone());
    experiment_level.insert("tags".to_owned(), all.clone());
    let mut not_started = experiment_level.clone();
    for field in [
        "hypothesis",
        "metrics",
        "primarySingleMetricKey",
        "primaryFunnelKey",
        "treatments",
        "flags",
        "randomizationUnit",
        "attributes",
        "canReshuffleTraffic",
        "reallocationFrequencyMillis",
        "covariateId",
    ] {
        not_started.insert(field.to_owned(), all.clone());
    }
    let mut running = experiment_level.clone();
    running.insert("metrics".to_owned(), json!(["add"]));
    assert_eq!(
        got.body["mutableFieldsByStatus"],
        json!({"not_started": not_started, "running": running, "stopped": experiment_level})
    );

    // What the table leaves out is refused: a name cannot be removed.
    let answer = t
        .patch(json!([{"kind": "updateExperimentFields", "value": {"name": {"operation": "remove"}}}]))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        errors(&answer.body),
        [(
            "/instructions/0".to_owned(),
            "not_allowed".to_owned(),
            "updateExperimentFields: name cannot be removed".to_owned()
        )]
    );
}

#[tokio::test]
async fn lists_page_filter_and_link_exactly() {
    let t = TestApp::new().await;
    let base = format!("{ENVIRONMENT}/experiments");
    for i in 0..3 {
        let post = json!({"name": format!("E{i}"), "key": format!("e{i}"), "iteration": valid_request()});
        assert_eq!(t.call(Method::POST, &base, Some(post)).await.status, StatusCode::CREATED);
    }
    // example-experiment, example-bandit, e0, e1, e2 are active; retired-experiment is archived.
    let keys = |answer: &Answer| -> Vec<String> {
        answer.body["items"]
            .as_array()
            .expect("items")
            .iter()
            .map(|i| i["key"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    let all = t.call(Method::GET, &base, None).await;
    assert_eq!(all.body["total_count"], 5);
    let middle = t.call(Method::GET, &format!("{base}?limit=2&offset=2"), None).await;
    assert_eq!(keys(&middle), keys(&all)[2..4]);
    let links = &middle.body["_links"];
    let href = |name: &str| links[name]["href"].as_str().map(str::to_owned);
    assert_eq!(href("self"), Some(format!("{base}?limit=2&offset=2")));
    assert_eq!(href("first"), Some(format!("{base}?limit=2&offset=0")));
    assert_eq!(href("prev"), Some(format!("{base}?limit=2&offset=0")));
    assert_eq!(href("next"), Some(format!("{base}?limit=2&offset=4")));
    assert_eq!(href("last"), Some(format!("{base}?limit=2&offset=4")));
    let end = t.call(Method::GET, &format!("{base}?limit=2&offset=4"), None).await;
    assert_eq!(end.body["items"].as_array().map(Vec::len), Some(1));
    assert_eq!(end.body["_links"].get("next"), None);
    let beyond = t.call(Method::GET, &format!("{base}?offset=99"), None).await;
    assert_eq!(beyond.body["items"], json!([]));
    assert_eq!(beyond.body["total_count"], 5);

    // limit: 50 is the most; 51 and 0 are refused rather than silently capped,
    // so a client never mistakes a short page for the end.
    assert_eq!(t.call(Method::GET, &format!("{base}?limit=50"), None).await.status, StatusCode::OK);
    for (query, message) in [
        ("limit=51", "limit 51 must be between 1 and 50"),
        ("limit=0", "limit 0 must be between 1 and 50"),
        ("limit=ten", "limit `ten` must be a whole number from 0 to 9223372036854775807"),
        ("offset=-1", "offset `-1` must be a whole number from 0 to 9223372036854775807"),
        ("lifecycleState=gone", "lifecycleState `gone` is not one of active, archived"),
        ("filter=owner:me", "cannot filter by `owner`; filter by flagKey, metricKey or status"),
    ] {
        let answer = t.call(Method::GET, &format!("{base}?{query}"), None).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(answer.body["message"], message);
    }

    let archived = t.call(Method::GET, &format!("{base}?lifecycleState=archived"), None).await;
    assert_eq!(keys(&archived), ["retired-experiment"]);
    let both = t.call(Method::GET, &format!("{base}?lifecycleState=archived,active"), None).await;
    assert_eq!(both.body["total_count"], 6);

    // Filters: start e0, stop e1 after starting it; e2 stays a draft.
    let app = &t;
    let patch = |key: &str, instructions: Value| {
        let path = format!("{base}/{key}");
        let body = json!({"instructions": instructions});
        async move { app.call(Method::PATCH, &path, Some(body)).await }
    };
    assert_eq!(patch("e0", json!([{"kind": "startIteration"}])).await.status, StatusCode::OK);
    let started = patch("e1", json!([{"kind": "startIteration"}])).await;
    let winner = t.call(Method::GET, &format!("{base}/e1?expand=treatments"), None).await.body
        ["currentIteration"]["treatments"][0]["_id"]
        .clone();
    assert_eq!(started.status, StatusCode::OK);
    let stopped = patch("e1", json!([{"kind": "stopIteration", "winningTreatmentId": winner}])).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    for (filter, expected) in [
        ("status:running", vec!["e0"]),
        ("status:stopped", vec!["e1"]),
        ("status:not_started", vec!["example-experiment", "example-bandit", "e2"]),
        ("metricKey:buy-button-click", vec!["e0", "e1", "e2"]),
        ("metricKey:org-revenue", vec![]),
        ("flagKey:example-flag-for-experiment", vec!["e0", "e1", "e2"]),
        ("flagKey:example-flag-for-experiment,status:running", vec!["e0"]),
    ] {
        let answer = t.call(Method::GET, &format!("{base}?filter={filter}"), None).await;
        assert_eq!(answer.status, StatusCode::OK, "{filter}");
        let mut got = keys(&answer);
        got.sort();
        let mut expected: Vec<String> = expected.into_iter().map(str::to_owned).collect();
        expected.sort();
        assert_eq!(got, expected, "{filter}");
        assert_eq!(
            answer.body["_links"]["self"]["href"],
            format!("{base}?limit=20&offset=0&filter={filter}"),
            "the links keep the filter"
        );
    }

    // Across environments: one experiment in test too.
    let test_post = json!({"name": "In test", "key": "in-test", "iteration": test_iteration()});
    let created = t
        .call(Method::POST, "/api/v2/projects/my-project/environments/test/experiments", Some(test_post))
        .await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    let project = t.call(Method::GET, "/api/v2/projects/my-project/experiments", None).await;
    assert_eq!(project.body["total_count"], 6);
    let environments: Vec<&str> = project.body["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|i| i["environmentKey"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(environments.iter().filter(|e| **e == "test").count(), 1, "{environments:?}");
    assert_eq!(
        project.body["_links"]["self"]["href"],
        "/api/v2/projects/my-project/experiments?limit=20&offset=0"
    );
    let in_test =
        t.call(Method::GET, "/api/v2/projects/my-project/environments/test/experiments", None).await;
    assert_eq!(keys(&in_test), ["in-test"]);
}

/// An iteration valid in the `test` environment, where the experiment flag
/// is off, at version 3, with no rules.
fn test_iteration() -> Value {
    let mut body = valid_request();
    body["flags"] = json!({"example-flag-for-experiment": {"ruleId": "fallthrough", "flagConfigVersion": 3}});
    body.as_object_mut().expect("object").remove("covariateId");
    body
}

#[tokio::test]
async fn start_iteration_refuses_each_failed_precondition() {
    let t = TestApp::new().await;
    let refused = |answer: &Answer, message: &str| {
        assert_error(answer, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(
            errors(&answer.body),
            [("/instructions/0".to_owned(), "not_allowed".to_owned(), format!("startIteration: {message}"))]
        );
    };
    // No draft.
    refused(
        &t.patch(json!([{"kind": "startIteration"}])).await,
        "the experiment has no draft iteration; create one first",
    );
    // Archived.
    t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    t.patch(json!([{"kind": "archiveExperiment"}])).await;
    refused(
        &t.patch(json!([{"kind": "startIteration"}])).await,
        "the experiment is archived; restore it before starting an iteration",
    );
    t.patch(json!([{"kind": "restoreExperiment"}])).await;
    // Running without changeJustification (blank counts as none).
    assert_eq!(t.patch(json!([{"kind": "startIteration"}])).await.status, StatusCode::OK);
    t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    for instruction in
        [json!({"kind": "startIteration"}), json!({"kind": "startIteration", "changeJustification": " "})]
    {
        refused(
            &t.patch(json!([instruction])).await,
            "an iteration is already running; give a changeJustification to stop it and start the draft",
        );
    }
    // A flag that is off in this environment: example-flag-for-experiment in test.
    let test = "/api/v2/projects/my-project/environments/test/experiments";
    let post = json!({"name": "In test", "key": "in-test", "iteration": test_iteration()});
    assert_eq!(t.call(Method::POST, test, Some(post)).await.status, StatusCode::CREATED);
    let answer = t
        .call(
            Method::PATCH,
            &format!("{test}/in-test"),
            Some(json!({"instructions": [{"kind": "startIteration"}]})),
        )
        .await;
    refused(&answer, "flag `example-flag-for-experiment` is off in this environment; turn it on first");
}

/// A draft with no randomization unit, or with no traffic, cannot be made
/// through the API (resolution defaults the unit; allocations sum to 100),
/// so those two preconditions are checked on the lifecycle function itself.
#[tokio::test]
async fn start_preconditions_that_no_request_can_break() {
    let t = TestApp::new().await;
    t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    let got = t.call(Method::GET, &format!("{EXPERIMENT}?expand=draftIteration,treatments"), None).await;
    let experiment: Experiment = serde_json::from_value(got.body).expect("an Experiment");
    let flags_on = |_: &str| Some(FlagState { on: true, archived: false });
    let start = |experiment: &mut Experiment, flag: &dyn Fn(&str) -> Option<FlagState>| {
        lifecycle::start_iteration(experiment, None, flag, None, NOW)
    };

    let mut no_unit = experiment.clone();
    if let Some(draft) = no_unit.draft_iteration.as_mut() {
        draft.randomization_unit = None;
    }
    assert_eq!(
        start(&mut no_unit, &flags_on),
        Err(Refusal("the draft iteration has no randomizationUnit".to_owned()))
    );

    let mut no_traffic = experiment.clone();
    for treatment in no_traffic.draft_iteration.iter_mut().flat_map(|d| d.treatments.iter_mut().flatten()) {
        treatment.allocation_percent = "0".to_owned();
    }
    assert_eq!(
        start(&mut no_traffic, &flags_on),
        Err(Refusal("no treatment has an allocationPercent above 0".to_owned()))
    );

    let archived_flag = |_: &str| Some(FlagState { on: true, archived: true });
    assert_eq!(
        start(&mut experiment.clone(), &archived_flag),
        Err(Refusal("flag `example-flag-for-experiment` is archived".to_owned()))
    );
    let gone = |_: &str| None;
    assert_eq!(
        start(&mut experiment.clone(), &gone),
        Err(Refusal("flag `example-flag-for-experiment` does not exist in this environment".to_owned()))
    );
    let mut fine = experiment.clone();
    assert_eq!(start(&mut fine, &flags_on), Ok(()));
    assert_eq!(fine.current_iteration.as_ref().and_then(|i| i.started_at), Some(NOW));
}

#[tokio::test]
async fn stop_iteration_needs_a_running_iteration_and_one_of_its_treatments() {
    let t = TestApp::new().await;
    let stop = json!([{"kind": "stopIteration", "winningTreatmentId": "anything"}]);
    let answer = t.patch(stop.clone()).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        errors(&answer.body),
        [(
            "/instructions/0".to_owned(),
            "not_allowed".to_owned(),
            "stopIteration: no iteration is running".to_owned()
        )]
    );
    t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    t.patch(json!([{"kind": "startIteration"}])).await;
    let answer = t.patch(stop).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        errors(&answer.body),
        [(
            "/instructions/0".to_owned(),
            "not_allowed".to_owned(),
            "stopIteration: winningTreatmentId `anything` is not a treatment of the running iteration"
                .to_owned()
        )]
    );
    let answer = t.patch(json!([{"kind": "stopIteration"}])).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    let paths: Vec<String> = errors(&answer.body).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(paths, ["/instructions/0/winningTreatmentId"]);
    let still = t.call(Method::GET, EXPERIMENT, None).await;
    assert_eq!(still.body["currentIteration"]["status"], "running");
}

#[tokio::test]
async fn a_running_iteration_only_takes_added_metrics() {
    let t = TestApp::new().await;
    t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    t.patch(json!([{"kind": "startIteration"}])).await;
    let add = json!([{"kind": "updateExperimentFields", "value": {
        "metrics": {"operation": "add", "value": [{"key": "checkout-pageview"}]}}}]);
    let answer = t.patch(add).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let metrics: Vec<&str> = answer.body["currentIteration"]["metrics"]
        .as_array()
        .expect("metrics")
        .iter()
        .map(|m| m["key"].as_str().unwrap_or(""))
        .collect();
    assert_eq!(metrics, ["metric-key-123abc", "metric-group-key-123abc", "checkout-pageview"]);
    assert_eq!(answer.body["currentIteration"]["status"], "running");

    for (field, operation) in [("metrics", "remove"), ("metrics", "update"), ("treatments", "update")] {
        let answer = t
            .patch(json!([{"kind": "updateExperimentFields", "value": {field: {"operation": operation, "value": []}}}]))
            .await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        assert_eq!(
            errors(&answer.body),
            [(
                "/instructions/0".to_owned(),
                "not_allowed".to_owned(),
                format!(
                    "updateExperimentFields: `{field}` cannot be changed with `{operation}` on a running \
                     iteration (only metrics with add); use saveAndStartNewIteration to change it in a new iteration"
                )
            )]
        );
    }
    // An added metric must still fit the iteration's randomization unit.
    let answer = t
        .patch(json!([{"kind": "updateExperimentFields", "value": {
            "metrics": {"operation": "add", "value": [{"key": "org-revenue"}]}}}]))
        .await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    let paths: Vec<String> = errors(&answer.body).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(paths, ["/instructions/0/value/metrics/3/key"], "{}", answer.body);
}

#[tokio::test]
async fn save_and_start_new_iteration_validates_like_create_iteration() {
    let t = TestApp::new().await;
    let created = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    t.clock.advance(1_000);
    t.patch(json!([{"kind": "startIteration"}])).await;
    t.clock.advance(1_000);

    // Invalid as a Create iteration body: nothing changes, errors point into the instruction.
    let bad = json!([{"kind": "saveAndStartNewIteration", "value": {
    "treatments": {"operation": "update", "value": [
        {"name": "Control", "baseline": true, "allocationPercent": "60",
         "parameters": [{"flagKey": "example-flag-for-experiment", "variationId": "e432f62b-55f6-49dd-a02f-eb24acf39d05"}]},
        {"name": "Top button", "baseline": false, "allocationPercent": "30",
         "parameters": [{"flagKey": "example-flag-for-experiment", "variationId": "6c5a1c1e-8a43-4d5f-9a1c-3b6f0d2e7a10"}]}
    ]}}}]);
    let answer = t.patch(bad).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        errors(&answer.body),
        [(
            "/instructions/0/value/treatments".to_owned(),
            "allocation_sum".to_owned(),
            "saveAndStartNewIteration: allocations sum to 90; they must sum to 100".to_owned()
        )]
    );
    let unchanged = t.call(Method::GET, EXPERIMENT, None).await;
    assert_eq!(unchanged.body["currentIteration"]["_id"], created.body["_id"]);

    let answer = t
        .call(
            Method::PATCH,
            &format!("{EXPERIMENT}?expand=previousIterations,treatments"),
            Some(json!({"instructions": [{"kind": "saveAndStartNewIteration", "changeJustification": "more metrics",
                "value": {"attributes": {"operation": "update", "value": ["country"]}}}]})),
        )
        .await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let current = &answer.body["currentIteration"];
    let previous = &answer.body["previousIterations"];
    assert_eq!(previous.as_array().map(Vec::len), Some(1));
    assert_eq!(previous[0]["_id"], created.body["_id"]);
    assert_eq!(previous[0]["status"], "stopped");
    assert_eq!(previous[0]["endedAt"], NOW.get() + 2_000);
    assert_ne!(current["_id"], created.body["_id"]);
    assert_eq!(current["status"], "running");
    assert_eq!(current["startedAt"], NOW.get() + 2_000);
    assert_eq!(current["attributes"], json!(["country"]));
    // Everything else is copied.
    for field in
        ["hypothesis", "flags", "metrics", "randomizationUnit", "covariateInfo", "primarySingleMetric"]
    {
        assert_eq!(current[field], created.body[field], "{field}");
    }
    let names = |i: &Value| -> Vec<Value> {
        i["treatments"].as_array().expect("treatments").iter().map(|t| t["name"].clone()).collect()
    };
    assert_eq!(names(current), names(&created.body));

    // Without a running iteration it is refused.
    let winner = current["treatments"][0]["_id"].clone();
    t.patch(json!([{"kind": "stopIteration", "winningTreatmentId": winner}])).await;
    let answer = t.patch(json!([{"kind": "saveAndStartNewIteration"}])).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(
        errors(&answer.body),
        [(
            "/instructions/0".to_owned(),
            "not_allowed".to_owned(),
            "saveAndStartNewIteration: no iteration is running; use startIteration to start the draft"
                .to_owned()
        )]
    );
}

#[tokio::test]
async fn rate_limit_headers_come_on_every_answer_and_per_token() {
    let t = TestApp::with_limits(RateLimits { route: Some(100), token: Some(3), ..RateLimits::OFF }).await;
    t.clock.set(UnixMillis(1_700_000_000_400));
    let iterations = format!("{EXPERIMENT}/iterations");
    let created = t.call(Method::POST, &iterations, Some(valid_request())).await;
    let invalid = t.call(Method::POST, &iterations, Some(json!({}))).await;
    let forbidden = t.send(request(Method::PATCH, EXPERIMENT, READER, Some(b"{}".to_vec()))).await;
    let patched = t.patch(json!([{"kind": "updateName", "value": "x"}])).await;
    let statuses = [created.status, invalid.status, forbidden.status, patched.status];
    assert_eq!(statuses, [StatusCode::OK, StatusCode::BAD_REQUEST, StatusCode::FORBIDDEN, StatusCode::OK]);
    let header =
        |a: &Answer, name: &str| a.headers.get(name).and_then(|v| v.to_str().ok()).map(str::to_owned);
    // Routes count separately; tokens separately.
    for (answer, route_remaining, token_remaining) in
        [(&created, "99", "2"), (&invalid, "98", "1"), (&forbidden, "99", "2"), (&patched, "98", "0")]
    {
        assert_eq!(header(answer, "x-ratelimit-route-limit").as_deref(), Some("100"));
        assert_eq!(header(answer, "x-ratelimit-route-remaining").as_deref(), Some(route_remaining));
        assert_eq!(header(answer, "x-ratelimit-reset").as_deref(), Some("1700000010000"));
        assert_eq!(header(answer, "x-ratelimit-auth-token-limit").as_deref(), Some("3"));
        assert_eq!(header(answer, "x-ratelimit-auth-token-remaining").as_deref(), Some(token_remaining));
        assert_eq!(header(answer, "x-ratelimit-auth-token-reset").as_deref(), Some("1700000010000"));
        assert_eq!(header(answer, "retry-after"), None);
    }
    // The writer's budget is spent; the reader's is not.
    t.clock.set(UnixMillis(1_700_000_000_401));
    let limited = t.call(Method::GET, EXPERIMENT, None).await;
    assert_error(&limited, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(header(&limited, "retry-after").as_deref(), Some("10"), "rounded up to whole seconds");
    assert_eq!(header(&limited, "x-ratelimit-auth-token-remaining").as_deref(), Some("0"));
    assert_eq!(limited.body["message"], "too many requests; retry in 10 s");
    let reader = t.send(request(Method::GET, EXPERIMENT, READER, None)).await;
    assert_eq!(reader.status, StatusCode::OK);
    assert_eq!(header(&reader, "x-ratelimit-auth-token-remaining").as_deref(), Some("1"));
    // A refused API version is counted and says so; a 401 is not.
    let mut req = request(Method::GET, EXPERIMENT, READER, None);
    req.headers_mut().insert("ld-api-version", "20191212".parse().expect("header"));
    let old_version = t.send(req).await;
    assert_error(&old_version, StatusCode::BAD_REQUEST, "invalid_request");
    assert_eq!(header(&old_version, "x-ratelimit-auth-token-remaining").as_deref(), Some("0"));
    assert_eq!(header(&old_version, "x-ratelimit-route-remaining").as_deref(), Some("97"));
    let unknown = t.send(request(Method::GET, EXPERIMENT, "nope", None)).await;
    assert_error(&unknown, StatusCode::UNAUTHORIZED, "unauthorized");
    assert_eq!(header(&unknown, "x-ratelimit-route-remaining"), None);
    let reader = t.send(request(Method::GET, EXPERIMENT, READER, None)).await;
    assert_error(&reader, StatusCode::TOO_MANY_REQUESTS, "rate_limited");
    assert_eq!(
        header(&reader, "x-ratelimit-route-remaining").as_deref(),
        Some("96"),
        "the 401 spent nothing"
    );
    // With limits turned off, no headers.
    let t = TestApp::with_limits(RateLimits::OFF).await;
    let unlimited = t.call(Method::GET, EXPERIMENT, None).await;
    assert_eq!(header(&unlimited, "x-ratelimit-route-limit"), None);
}

#[tokio::test]
async fn a_new_experiment_keeps_what_was_posted_and_its_type_decides_reallocation() {
    let t = TestApp::new().await;
    let experiments = format!("{ENVIRONMENT}/experiments");
    let mut iteration = valid_request();
    iteration["reallocationFrequencyMillis"] = json!(3_600_000);
    let post = json!({
        "name": "Bandit", "key": "bandit", "description": "Finds the best button", "type": "mab",
        "methodology": "bayesian", "dataSource": "launchdarkly", "tags": ["checkout"],
        "iteration": iteration
    });
    let answer = t.call(Method::POST, &experiments, Some(post)).await;
    assert_eq!(answer.status, StatusCode::CREATED, "{}", answer.body);
    let body = &answer.body;
    assert_eq!(body["key"], "bandit");
    assert_eq!(body["name"], "Bandit");
    assert_eq!(body["description"], "Finds the best button");
    assert_eq!(body["type"], "mab");
    assert_eq!(body["methodology"], "bayesian");
    assert_eq!(body["dataSource"], "launchdarkly");
    assert_eq!(body["tags"], json!(["checkout"]));
    assert_eq!(body["environmentKey"], "production");
    assert_eq!(body["_creationDate"], NOW.get());
    assert_eq!(body["_links"]["self"]["href"], format!("{experiments}/bandit"));
    assert_eq!(body["draftIteration"]["reallocationFrequencyMillis"], 3_600_000);
    assert_eq!(body["draftIteration"]["createdAt"], NOW.get());
    assert_eq!(body.get("currentIteration"), None);

    // The same iteration on a plain experiment is refused at its path.
    let post = json!({"name": "Plain", "key": "plain", "iteration": iteration});
    let answer = t.call(Method::POST, &experiments, Some(post)).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    let found: Vec<(String, String)> = errors(&answer.body).into_iter().map(|(p, c, _)| (p, c)).collect();
    assert_eq!(
        found,
        [("/iteration/reallocationFrequencyMillis".to_owned(), "reallocation_not_bandit".to_owned())]
    );
    // Nothing was stored for the refused one.
    let missing = t.call(Method::GET, &format!("{experiments}/plain"), None).await;
    assert_error(&missing, StatusCode::NOT_FOUND, "not_found");

    // The experiment's own problems and its iteration's, static or against
    // the catalog, come together; also when name or key cannot be read.
    let mut unknown_metric = valid_request();
    unknown_metric["metrics"][0]["key"] = json!("no-such-metric");
    unknown_metric["primarySingleMetricKey"] = json!("no-such-metric");
    let mut stale = valid_request();
    stale["flags"]["example-flag-for-experiment"]["flagConfigVersion"] = json!(11);
    for (post, expected) in [
        (
            json!({"name": " ", "key": "blank-name", "iteration": unknown_metric}),
            vec![("/name", "blank"), ("/iteration/metrics/0/key", "unknown_metric")],
        ),
        (
            json!({"key": 5, "iteration": unknown_metric}),
            vec![
                ("/name", "missing_field"),
                ("/key", "wrong_type"),
                ("/iteration/metrics/0/key", "unknown_metric"),
            ],
        ),
        // A stale flag version is a 409 only when nothing else is wrong.
        (json!({"name": "", "key": "stale", "iteration": stale}), vec![("/name", "blank")]),
    ] {
        let answer = t.call(Method::POST, &experiments, Some(post.clone())).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        let found: Vec<(String, String)> = errors(&answer.body).into_iter().map(|(p, c, _)| (p, c)).collect();
        let expected: Vec<(String, String)> =
            expected.into_iter().map(|(p, c)| (p.to_owned(), c.to_owned())).collect();
        assert_eq!(found, expected, "{post}");
    }
    let answer = t
        .call(Method::POST, &experiments, Some(json!({"name": "S", "key": "stale", "iteration": stale})))
        .await;
    assert_error(&answer, StatusCode::CONFLICT, "optimistic_locking_error");
    let listed = t.call(Method::GET, &format!("{experiments}?lifecycleState=active,archived"), None).await;
    assert_eq!(listed.body["total_count"], 4, "only the bandit was added");
}

#[tokio::test]
async fn secondary_metrics_and_analysis_config_appear_only_when_expanded() {
    let t = TestApp::new().await;
    let mut iteration = valid_request();
    iteration["metrics"].as_array_mut().expect("metrics").push(json!({"key": "checkout-pageview"}));
    let post = json!({"name": "Expanded", "key": "expanded", "iteration": iteration,
        "analysisConfig": {"bayesianThreshold": "95", "testDirection": "twoSided"}});
    let created = t.call(Method::POST, &format!("{ENVIRONMENT}/experiments"), Some(post)).await;
    assert_eq!(created.status, StatusCode::CREATED, "{}", created.body);
    // A create answers with everything: the caller just made it.
    assert_eq!(created.body["analysisConfig"]["bayesianThreshold"], "95");
    let secondary = |body: &Value| -> Vec<String> {
        body["draftIteration"]["secondaryMetrics"]
            .as_array()
            .into_iter()
            .flatten()
            .map(|m| m["key"].as_str().unwrap_or("").to_owned())
            .collect()
    };
    assert_eq!(secondary(&created.body), ["checkout-pageview"]);

    let path = format!("{ENVIRONMENT}/experiments/expanded");
    let plain = t.call(Method::GET, &format!("{path}?expand=draftIteration"), None).await;
    assert_eq!(plain.body.get("analysisConfig"), None);
    assert_eq!(plain.body["draftIteration"].get("secondaryMetrics"), None);
    let full = t
        .call(Method::GET, &format!("{path}?expand=draftIteration,secondaryMetrics,analysisConfig"), None)
        .await;
    assert_eq!(full.body["analysisConfig"], created.body["analysisConfig"]);
    assert_eq!(secondary(&full.body), ["checkout-pageview"]);
}

#[tokio::test]
async fn a_patch_needs_instructions_each_with_a_kind() {
    let t = TestApp::new().await;
    for (body, path) in [
        (json!({"instructions": []}), "/instructions"),
        (json!({"comment": "nothing"}), "/instructions"),
        (json!({"instructions": [{"value": "x"}]}), "/instructions/0/kind"),
    ] {
        let answer = t.call(Method::PATCH, EXPERIMENT, Some(body.clone())).await;
        assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
        let paths: Vec<String> = errors(&answer.body).into_iter().map(|(p, _, _)| p).collect();
        assert_eq!(paths, [path], "{body}: {}", answer.body);
    }
}

#[tokio::test]
async fn a_draft_takes_updates_to_any_iteration_field_and_revalidates() {
    let t = TestApp::new().await;
    let created = t.call(Method::POST, &format!("{EXPERIMENT}/iterations"), Some(valid_request())).await;
    let mut treatments = valid_request()["treatments"].clone();
    treatments[0]["allocationPercent"] = json!("30");
    treatments[1]["allocationPercent"] = json!(70);
    let path = format!("{EXPERIMENT}?expand=draftIteration,treatments");
    let update = json!({"instructions": [{"kind": "updateExperimentFields", "value": {
        "treatments": {"operation": "update", "value": treatments},
        "canReshuffleTraffic": {"operation": "update", "value": false},
        "attributes": {"operation": "remove"}
    }}]});
    let answer = t.call(Method::PATCH, &path, Some(update)).await;
    assert_eq!(answer.status, StatusCode::OK, "{}", answer.body);
    let draft = &answer.body["draftIteration"];
    assert_eq!(draft["_id"], created.body["_id"], "the same draft, changed");
    assert_eq!(draft["createdAt"], created.body["createdAt"]);
    assert_eq!(draft["version"], 1);
    let allocations: Vec<&Value> =
        draft["treatments"].as_array().expect("treatments").iter().map(|t| &t["allocationPercent"]).collect();
    assert_eq!(allocations, [&json!("30"), &json!("70")]);
    assert_eq!(draft["canReshuffleTraffic"], false);
    assert_eq!(draft.get("attributes"), None);

    // The result must be a valid Create iteration body; here the unit fits no metric.
    let update = json!({"instructions": [{"kind": "updateExperimentFields", "value": {
        "randomizationUnit": {"operation": "update", "value": "organization"},
        "hypothesis": {"operation": "remove"}
    }}]});
    let answer = t.call(Method::PATCH, &path, Some(update)).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    let paths: Vec<String> = errors(&answer.body).into_iter().map(|(p, _, _)| p).collect();
    assert_eq!(paths, ["/instructions/0/value/hypothesis"], "{}", answer.body);
    let update = json!({"instructions": [{"kind": "updateExperimentFields", "value": {
        "randomizationUnit": {"operation": "update", "value": "organization"}
    }}]});
    let answer = t.call(Method::PATCH, &path, Some(update)).await;
    assert_error(&answer, StatusCode::BAD_REQUEST, "invalid_request");
    assert!(
        errors(&answer.body)
            .iter()
            .all(|(p, _, m)| p.starts_with("/instructions/0/value/")
                && m.starts_with("updateExperimentFields: ")),
        "{}",
        answer.body
    );
    let unchanged = t.call(Method::GET, &path, None).await;
    assert_eq!(unchanged.body["draftIteration"]["version"], 1);
    assert_eq!(unchanged.body["draftIteration"]["randomizationUnit"], "user");
}

#[tokio::test]
async fn only_an_experiment_in_a_layer_gets_a_layer_snapshot_and_restore_clears_archived_date() {
    let t = TestApp::new().await;
    let bandit = format!("{ENVIRONMENT}/experiments/example-bandit");
    let created = t.call(Method::POST, &format!("{bandit}/iterations"), Some(valid_request())).await;
    assert_eq!(created.status, StatusCode::OK, "{}", created.body);
    let start = json!({"instructions": [{"kind": "startIteration"}]});
    assert_eq!(t.call(Method::PATCH, &bandit, Some(start)).await.status, StatusCode::OK);
    let winner = created.body["treatments"][1]["_id"].clone();
    let stop = json!({"instructions": [{"kind": "stopIteration", "winningTreatmentId": winner}]});
    let stopped = t.call(Method::PATCH, &format!("{bandit}?expand=previousIterations"), Some(stop)).await;
    assert_eq!(stopped.status, StatusCode::OK, "{}", stopped.body);
    assert_eq!(stopped.body["previousIterations"][0]["winningTreatmentId"], winner);
    assert_eq!(stopped.body["previousIterations"][0].get("layerSnapshot"), None);

    let archive = json!({"instructions": [{"kind": "archiveExperiment"}]});
    let archived = t.call(Method::PATCH, &bandit, Some(archive.clone())).await;
    assert_eq!(archived.body["archivedDate"], NOW.get());
    let again = t.call(Method::PATCH, &bandit, Some(archive)).await;
    assert_error(&again, StatusCode::BAD_REQUEST, "invalid_request");
    let restore = json!({"instructions": [{"kind": "restoreExperiment"}]});
    let restored = t.call(Method::PATCH, &bandit, Some(restore)).await;
    assert_eq!(restored.status, StatusCode::OK);
    assert_eq!(restored.body.get("archivedDate"), None);
}
