import type { ErrorNode } from './errorNode';
import type { FolderNode } from './folderNode';
import type { KeyNode } from './keyNode';
import type { LoadMoreNode } from './loadMoreNode';

export { ErrorNode } from './errorNode';
export { FolderNode } from './folderNode';
export { KeyNode, previewOf } from './keyNode';
export { LoadMoreNode } from './loadMoreNode';

export type TreeNode = FolderNode | KeyNode | LoadMoreNode | ErrorNode;
