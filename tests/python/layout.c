/* SPDX-License-Identifier: MIT
 * layout.c: sizeof and offsetof of the structs the Python package mirrors
 * (src/python/softreg/_lib.py), one line each: "struct field offset size", and
 * "struct sizeof size". tests/python/test_layout.py compares them with ctypes. */
#include <softreg.h>

#include <stddef.h>
#include <stdio.h>

#define F(s, f) printf("%s %s %zu %zu\n", #s, #f, offsetof(struct s, f), sizeof(((struct s *)0)->f))
#define S(s) printf("%s sizeof %zu\n", #s, sizeof(struct s))

int main(void)
{
	S(softreg_source);
	F(softreg_source, kind); F(softreg_source, n); F(softreg_source, d); F(softreg_source, data);
	F(softreg_source, indptr); F(softreg_source, indices); F(softreg_source, values); F(softreg_source, origin); F(softreg_source, indices16); F(softreg_source, values8);

	S(softreg_dataset);
	F(softreg_dataset, x); F(softreg_dataset, n); F(softreg_dataset, d); F(softreg_dataset, rows);
	F(softreg_dataset, cols); F(softreg_dataset, labels); F(softreg_dataset, y); F(softreg_dataset, dropped);
	F(softreg_dataset, mem_); F(softreg_dataset, map_); F(softreg_dataset, map_len_);

	S(softreg_model);
	F(softreg_model, k); F(softreg_model, d); F(softreg_model, rows); F(softreg_model, cols);
	F(softreg_model, input); F(softreg_model, prep); F(softreg_model, scale); F(softreg_model, mean);
	F(softreg_model, inv_std); F(softreg_model, W); F(softreg_model, b); F(softreg_model, classes);
	F(softreg_model, epochs); F(softreg_model, seed); F(softreg_model, test_accuracy); F(softreg_model, mem_);

	S(softreg_params);
	F(softreg_params, solver); F(softreg_params, epochs); F(softreg_params, batch); F(softreg_params, lr);
	F(softreg_params, momentum); F(softreg_params, l2); F(softreg_params, schedule); F(softreg_params, seed);
	F(softreg_params, shuffle); F(softreg_params, history); F(softreg_params, tol); F(softreg_params, validation);
	F(softreg_params, early_stop); F(softreg_params, eval_every); F(softreg_params, eval_train);
	F(softreg_params, kernel); F(softreg_params, progress); F(softreg_params, on_iter); F(softreg_params, user);
	F(softreg_params, stop); F(softreg_params, lbfgs_memory); F(softreg_params, threads_auto);

	S(softreg_epoch_info);
	F(softreg_epoch_info, epoch); F(softreg_epoch_info, epochs); F(softreg_epoch_info, batch);
	F(softreg_epoch_info, batches); F(softreg_epoch_info, batch_size); F(softreg_epoch_info, train_loss);
	F(softreg_epoch_info, train_accuracy); F(softreg_epoch_info, test_loss); F(softreg_epoch_info, test_accuracy);
	F(softreg_epoch_info, val_accuracy); F(softreg_epoch_info, lr); F(softreg_epoch_info, seconds);
	F(softreg_epoch_info, objective); F(softreg_epoch_info, grad_norm); F(softreg_epoch_info, end_of_epoch);

	S(softreg_report);
	F(softreg_report, epochs_run); F(softreg_report, iterations); F(softreg_report, train_seconds);
	F(softreg_report, test_loss); F(softreg_report, test_accuracy); F(softreg_report, val_accuracy);
	F(softreg_report, objective); F(softreg_report, grad_norm); F(softreg_report, diverged_epoch);
	F(softreg_report, diverged_batch); F(softreg_report, diverged_loss);

	S(softreg_kernel);
	F(softreg_kernel, name); F(softreg_kernel, sources); F(softreg_kernel, about); F(softreg_kernel, loss_grad);
	F(softreg_kernel, logits); F(softreg_kernel, softmax_loss);

	S(softreg_batch);
	F(softreg_batch, src); F(softreg_batch, y); F(softreg_batch, first); F(softreg_batch, m);
	F(softreg_batch, rows);

	/* the enums are int-sized (ctypes.c_int in the mirror) */
	printf("enum sizeof %zu\n", sizeof(enum softreg_result));
	printf("sig_atomic_t sizeof %zu\n", sizeof(sig_atomic_t));
	return ferror(stdout) ? 1 : 0;
}
