import type { ErrorNode } from './errorNode';
import type { FolderNode } from './folderNode';
import type { KeyNode } from './keyNode';
import type { LoadMoreNode } from './loadMoreNode';
import type { RegistryNode } from './registryNode';

export { ErrorNode } from './errorNode';
export { FolderNode } from './folderNode';
export { KeyNode, PREVIEW_HEAD, previewOf } from './keyNode';
export { LoadMoreNode } from './loadMoreNode';
export { RegistryNode } from './registryNode';

export type TreeNode = RegistryNode | FolderNode | KeyNode | LoadMoreNode | ErrorNode;
